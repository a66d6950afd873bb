import numpy as np
import pytest

from fmcnn.gradcheck import check_layer
from fmcnn.nn import Conv2D, col2im, conv_output_size, im2col
from naive import conv_naive


@pytest.mark.parametrize("stride,padding,k", [(1, 0, 3), (1, 2, 5), (2, 1, 3), (2, 0, 2), (3, 1, 3)])
def test_forward_matches_loops(stride, padding, k):
    rng = np.random.default_rng(0)
    layer = Conv2D(3, 4, k, stride=stride, padding=padding, rng=1)
    layer.bias.data[:] = rng.standard_normal(4)
    x = rng.standard_normal((2, 3, 9, 8)).astype(np.float32)
    out = layer(x)
    expected = conv_naive(x.astype(np.float64), layer.weight.data.astype(np.float64), layer.bias.data, stride, padding)
    assert out.shape == expected.shape == (2, 4, conv_output_size(9, k, stride, padding), conv_output_size(8, k, stride, padding))
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride,padding,k", [(1, 0, 3), (1, 2, 5), (2, 1, 3), (2, 0, 2), (3, 1, 3)])
def test_gradients(stride, padding, k):
    x = np.random.default_rng(1).standard_normal((2, 2, 7, 6))
    # A convolution is linear in x and in its parameters, so the central difference
    # has no truncation error at any step: a large h keeps rounding noise out of the
    # small entries of dL/dx (with h = 1e-6 that noise alone reaches ~1e-6 here).
    errors = check_layer(Conv2D(2, 3, k, stride=stride, padding=padding, rng=0), x, h=1e-3)
    assert max(errors.values()) < 1e-6, errors


def test_col2im_is_the_adjoint_of_im2col():
    # <im2col(x), c> == <x, col2im(c)> for all x, c: col2im is exactly the transpose map.
    rng = np.random.default_rng(2)
    for stride in (1, 2):
        x = rng.standard_normal((2, 3, 7, 7))
        cols = im2col(x, 3, stride)
        c = rng.standard_normal(cols.shape)
        assert np.isclose(np.sum(cols * c), np.sum(x * col2im(c, x.shape, 3, stride)))


def test_default_dtype_is_float32_and_to_changes_it():
    layer = Conv2D(1, 2, 3, rng=0)
    assert layer.weight.data.dtype == np.float32
    assert layer(np.zeros((1, 1, 5, 5), np.float32)).dtype == np.float32
    assert layer.to(np.float64)(np.zeros((1, 1, 5, 5), np.float64)).dtype == np.float64


def test_he_initialization_scale_and_zero_bias():
    layer = Conv2D(16, 64, 5, rng=0)
    assert np.isclose(layer.weight.data.std(), np.sqrt(2 / (16 * 25)), rtol=0.05)
    assert not layer.bias.data.any()


def test_same_seed_same_weights():
    assert np.array_equal(Conv2D(1, 6, 5, rng=3).weight.data, Conv2D(1, 6, 5, rng=3).weight.data)


@pytest.mark.parametrize("x,match", [
    (np.zeros((1, 2, 5, 5), np.float32), "3 input channels"),
    (np.zeros((3, 5, 5), np.float32), r"shape \(N, C, H, W\)"),
    (np.zeros((1, 3, 5, 5), np.uint8), "floating-point"),
    (np.zeros((1, 3, 2, 2), np.float32), "smaller than"),
])
def test_bad_input_is_explained(x, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Conv2D(3, 4, 3, rng=0)(x)


@pytest.mark.parametrize("stride", [1, 2, 3])
def test_col2im_matches_loops(stride):
    # col2im against a direct loop over every column entry: the same additions, so equal to rounding.
    rng = np.random.default_rng(5)
    x_shape, k = (2, 3, 9, 8), 3
    Ho, Wo = conv_output_size(9, k, stride), conv_output_size(8, k, stride)
    cols = rng.standard_normal((2, 3 * k * k, Ho * Wo))
    expected = np.zeros(x_shape)
    c6 = cols.reshape(2, 3, k, k, Ho, Wo)
    for di in range(k):
        for dj in range(k):
            for i in range(Ho):
                for j in range(Wo):
                    expected[:, :, i * stride + di, j * stride + dj] += c6[:, :, di, dj, i, j]
    np.testing.assert_allclose(col2im(cols, x_shape, k, stride), expected, rtol=1e-12, atol=1e-12)
