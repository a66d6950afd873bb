import numpy as np
import pytest

from fmcnn.gradcheck import check_layer
from fmcnn.nn import Linear


def test_forward_is_affine_with_pytorch_weight_layout():
    layer = Linear(4, 3, rng=0)
    assert layer.weight.data.shape == (3, 4)
    layer.bias.data[:] = [1, 2, 3]
    x = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    np.testing.assert_allclose(layer(x), x @ layer.weight.data.T + [1, 2, 3], rtol=1e-6)


def test_gradients():
    errors = check_layer(Linear(6, 4, rng=0), np.random.default_rng(1).standard_normal((3, 6)))
    assert max(errors.values()) < 1e-7, errors


def test_gradients_accumulate_until_zeroed():
    layer = Linear(3, 2, rng=0)
    x, g = np.ones((1, 3), np.float32), np.ones((1, 2), np.float32)
    layer(x)
    layer.backward(g)
    layer.backward(g)
    np.testing.assert_allclose(layer.weight.grad, 2 * np.ones((2, 3)))
    layer.zero_grad()
    assert not layer.weight.grad.any()


def test_wrong_feature_count_is_explained():
    with pytest.raises(ValueError, match="400 input features"):
        Linear(400, 10, rng=0)(np.zeros((2, 399), np.float32))
