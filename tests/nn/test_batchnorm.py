import numpy as np
import pytest

from fmcnn.gradcheck import check_layer
from fmcnn.nn import BatchNorm2D


@pytest.mark.parametrize("training", [True, False])
def test_gradients(training):
    layer = BatchNorm2D(3)
    rng = np.random.default_rng(0)
    layer.weight.data[:] = rng.uniform(0.5, 2, 3)
    layer.bias.data[:] = rng.standard_normal(3)
    layer.running_mean[:] = rng.standard_normal(3)
    layer.running_var[:] = rng.uniform(0.5, 2, 3)
    layer.train(training)
    errors = check_layer(layer, rng.standard_normal((4, 3, 5, 5)) * 3 + 1)
    # Train-mode dx subtracts two means from g, so some entries are small differences: looser bound for x.
    assert errors["x"] < 1e-5 and errors["weight"] < 1e-7 and errors["bias"] < 1e-7, errors


def test_train_mode_normalizes_each_channel():
    x = np.random.default_rng(1).standard_normal((8, 4, 6, 6)).astype(np.float32) * 5 + 3
    y = BatchNorm2D(4)(x)
    np.testing.assert_allclose(y.mean(axis=(0, 2, 3)), 0, atol=1e-5)
    np.testing.assert_allclose(y.var(axis=(0, 2, 3)), 1, atol=1e-3)


def test_running_statistics_follow_pytorch():
    # PyTorch: running = 0.9 * running + 0.1 * batch stat, with the unbiased variance.
    x = np.random.default_rng(2).standard_normal((4, 2, 3, 3)) * 2 + 1
    layer = BatchNorm2D(2).to(np.float64)
    layer(x)
    m = 4 * 3 * 3
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=(0, 2, 3)))
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=(0, 2, 3)) * m / (m - 1))


def test_eval_mode_uses_running_statistics_and_ignores_the_batch():
    layer = BatchNorm2D(2)
    layer.running_mean[:] = [1.0, -1.0]
    layer.running_var[:] = [4.0, 0.25]
    layer.eval()
    x = np.random.default_rng(3).standard_normal((5, 2, 3, 3)).astype(np.float32)
    y = layer(x)
    np.testing.assert_allclose(y[:, 0], (x[:, 0] - 1) / np.sqrt(4 + 1e-5), rtol=1e-5)
    np.testing.assert_allclose(layer(x[:1]), y[:1], rtol=1e-6)   # one image alone gives the same answer
    assert np.array_equal(layer.running_mean, [1.0, -1.0])         # eval mode never updates statistics


def test_train_mode_rejects_a_single_value_per_channel():
    with pytest.raises(ValueError, match="more than one value"):
        BatchNorm2D(2)(np.zeros((1, 2, 1, 1), np.float32))
