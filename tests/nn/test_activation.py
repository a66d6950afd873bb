import numpy as np

from fmcnn.gradcheck import check_layer
from fmcnn.nn import ReLU


def test_forward_and_backward():
    relu = ReLU()
    x = np.array([[-1.0, 0.0, 2.0]], np.float32)
    np.testing.assert_array_equal(relu(x), [[0, 0, 2]])
    np.testing.assert_array_equal(relu.backward(np.array([[5.0, 5.0, 5.0]], np.float32)), [[0, 0, 5]])


def test_gradients():
    assert check_layer(ReLU(), np.random.default_rng(0).standard_normal((3, 4, 5)))["x"] < 1e-7
