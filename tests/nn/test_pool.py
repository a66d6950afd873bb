import numpy as np
import pytest

from fmcnn.gradcheck import check_layer
from fmcnn.nn import MaxPool2D
from naive import maxpool_naive


@pytest.mark.parametrize("k,stride,size", [(2, None, 8), (2, None, 7), (3, 2, 7), (3, 1, 5), (2, 3, 8)])
def test_forward_matches_loops(k, stride, size):
    x = np.random.default_rng(0).standard_normal((2, 3, size, size)).astype(np.float32)
    out = MaxPool2D(k, stride)(x)
    np.testing.assert_array_equal(out, maxpool_naive(x, k, stride or k))


@pytest.mark.parametrize("k,stride,size", [(2, None, 6), (2, None, 5), (3, 2, 7), (3, 1, 5)])
def test_gradients(k, stride, size):
    x = np.random.default_rng(1).standard_normal((2, 2, size, size))
    assert check_layer(MaxPool2D(k, stride), x)["x"] < 1e-7


def test_tie_sends_gradient_to_the_first_maximum_only():
    x = np.ones((1, 1, 2, 2), np.float32)
    pool = MaxPool2D(2)
    pool(x)
    np.testing.assert_array_equal(pool.backward(np.full((1, 1, 1, 1), 5.0, np.float32))[0, 0], [[5, 0], [0, 0]])


def test_overlapping_windows_add_their_gradients():
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0   # the centre is the maximum of all four 2x2 windows (stride 1)
    pool = MaxPool2D(2, stride=1)
    pool(x)
    dx = pool.backward(np.ones((1, 1, 2, 2)))
    assert dx[0, 0, 1, 1] == 4 and dx.sum() == 4


def test_dtype_is_kept():
    x = np.zeros((1, 1, 4, 4), np.float32)
    pool = MaxPool2D(2)
    assert pool(x).dtype == np.float32
    assert pool.backward(np.zeros((1, 1, 2, 2), np.float32)).dtype == np.float32
