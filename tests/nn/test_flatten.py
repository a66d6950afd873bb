import numpy as np

from fmcnn.gradcheck import check_layer
from fmcnn.nn import Flatten


def test_round_trip_shapes():
    f = Flatten()
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    assert f(x).shape == (2, 60)
    assert np.array_equal(f.backward(f(x)), x)


def test_gradients():
    assert check_layer(Flatten(), np.random.default_rng(0).standard_normal((2, 3, 2, 2)))["x"] < 1e-7
