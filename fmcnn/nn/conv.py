"""2-D convolution (really cross-correlation, as in every deep-learning library): chapters 4 and 5."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .init import he_normal
from .module import Module, Parameter, check_input


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length along one axis: floor((size + 2*padding - kernel_size) / stride) + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def im2col(x, kernel_size, stride=1):
    """Unfold every receptive field of an (already padded) batch into a column.

    x: (N, C, H, W)  ->  cols: (N, C * k * k, Ho * Wo)

    Rows are ordered (c, di, dj), matching ``weight.reshape(O, -1)``, and columns
    (i, j), so ``weight.reshape(O, -1) @ cols`` is already in (N, O, Ho * Wo)
    order. Chapter 4 builds the same matrix with one row per window instead,
    (N * Ho * Wo, C * k * k): these are its numbers, grouped per image and transposed.
    """
    N, C = x.shape[:2]
    k = kernel_size
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]   # (N, C, Ho, Wo, k, k)
    Ho, Wo = windows.shape[2:4]
    return windows.transpose(0, 1, 4, 5, 2, 3).reshape(N, C * k * k, Ho * Wo)


def col2im(cols, x_shape, kernel_size, stride=1):
    """Adjoint of :func:`im2col`: add every column back onto the pixels it came from.

    cols: (N, C * k * k, Ho * Wo)  ->  (N, C, H, W), where ``x_shape`` is the
    padded input's shape. For each kernel offset (a, b), the entries of all
    columns at that offset land on a strided grid of pixels; ``+=`` adds up the
    windows that overlap, which is the chain rule for a pixel feeding several outputs.
    """
    N, C, H, W = x_shape
    k = kernel_size
    Ho, Wo = conv_output_size(H, k, stride), conv_output_size(W, k, stride)
    d = cols.reshape(N, C, k, k, Ho, Wo)
    dx = np.zeros(x_shape, dtype=cols.dtype)
    for a in range(k):
        for b in range(k):
            dx[:, :, a:a + stride * Ho:stride, b:b + stride * Wo:stride] += d[:, :, a, b]
    return dx


class Conv2D(Module):
    """2-D convolution layer with square kernels.

    Args:
        in_channels, out_channels: C and O.
        kernel_size: k (square k x k kernels).
        stride, padding: as in PyTorch; padding adds zeros on every side.
        rng: seed or ``np.random.Generator`` for the He initialization.

    Shapes: x (N, C, H, W) -> out (N, O, Ho, Wo), with
    Ho = (H + 2*padding - k) // stride + 1. weight (O, C, k, k), bias (O,).

    ``input_grad = False`` skips computing dL/dx in backward (which then
    returns None): the first layer's input is the data, whose gradient nobody
    uses, and col2im is the most expensive part of the backward pass.
    """

    _param_names = ("weight", "bias")
    short_name = "conv"

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, rng=None):
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        fan_in = in_channels * kernel_size * kernel_size
        self.weight = Parameter(he_normal((out_channels, in_channels, kernel_size, kernel_size), fan_in, rng), "weight")
        self.bias = Parameter(np.zeros(out_channels, dtype=np.float32), "bias")
        self.input_grad = True

    def forward(self, x):
        """x: (N, C, H, W) -> (N, O, Ho, Wo)."""
        self.check_input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got x of shape {x.shape}.")
        k, s, p = self.kernel_size, self.stride, self.padding
        if x.shape[2] + 2 * p < k or x.shape[3] + 2 * p < k:
            raise ValueError(f"Conv2D: input {x.shape[2]}x{x.shape[3]} with padding {p} is smaller than the {k}x{k} kernel.")
        N, O = x.shape[0], self.out_channels
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        Ho, Wo = conv_output_size(xp.shape[2], k, s), conv_output_size(xp.shape[3], k, s)
        cols = im2col(xp, k, s)                                   # X_n: (C*k*k, Ho*Wo) per image
        w = self.weight.data.reshape(O, -1)                       # W: (O, C*k*k)
        out = w @ cols + self.bias.data[:, None]                  # Y_n = W X_n + b: (N, O, Ho*Wo)
        self._cache = (xp.shape, cols)
        return out.reshape(N, O, Ho, Wo)

    def backward(self, grad_out):
        """grad_out: (N, O, Ho, Wo) -> dL/dx: (N, C, H, W).

        Per image n, Y_n = W X_n + b with G_n = dL/dY_n an (O, Ho*Wo) matrix, so
        dW = sum_n G_n X_n^T, db = the sum of G over images and positions,
        dX_n = W^T G_n, and col2im adds the columns dX_n back onto the padded
        input, whose border is then cropped.
        """
        padded_shape, cols = self._cache
        N, O, p = grad_out.shape[0], self.out_channels, self.padding
        g = grad_out.reshape(N, O, -1)                            # G_n: (O, Ho*Wo)
        self.weight.grad += (g @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.weight.data.shape)
        # Before BatchNorm this gradient is zero but for rounding. It is computed
        # anyway, as in PyTorch: Adam turns even that residue into steps, so
        # skipping it would change the training run (chapter 13).
        self.bias.grad += g.sum(axis=(0, 2))
        if not self.input_grad:
            return None
        dcols = self.weight.data.reshape(O, -1).T @ g             # dX_n = W^T G_n: (N, C*k*k, Ho*Wo)
        dxp = col2im(dcols, padded_shape, self.kernel_size, self.stride)
        H, W = padded_shape[2] - 2 * p, padded_shape[3] - 2 * p
        return dxp[:, :, p:p + H, p:p + W]

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
