import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "browser: checks the built book in headless Chromium "
                                       "(needs `_build/html` and the `chromium` package)")


@pytest.fixture(scope="module")
def tiny_data():
    """Three images of every class (deterministic noise with a class-dependent bright square)."""
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(10), 3)
    images = rng.integers(0, 60, size=(30, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        images[i, 2 + 2 * c:10 + 2 * c, 4:20] = 200 + c
    return images, labels


@pytest.fixture
def model():
    from fmcnn.models import lenet_bn
    return lenet_bn(seed=0).eval()


@pytest.fixture(autouse=True)
def close_figures():
    yield
    import matplotlib.pyplot as plt
    plt.close("all")
