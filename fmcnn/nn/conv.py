"""2-D convolution (really cross-correlation, as in every deep-learning library)."""
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .init import he_normal
from .module import Module, Parameter, check_input


def conv_output_size(size, kernel_size, stride=1, padding=0):
    """Output length along one axis: floor((size + 2*padding - kernel_size) / stride) + 1."""
    return (size + 2 * padding - kernel_size) // stride + 1


def reuse_or_empty(out, shape, dtype):
    """``out`` when it is an array of this shape and dtype (from an earlier call), else a new empty one.

    A fresh large array costs page faults on first touch, which at batch 1000
    (an 80 MB im2col matrix for conv1) took longer than the copy into it.
    """
    if out is None or out.shape != shape or out.dtype != dtype:
        out = np.empty(shape, dtype=dtype)
    return out


def im2col(x, kernel_size, stride=1, out=None):
    """Unfold every receptive field of an (already padded) batch into a column.

    x: (N, C, H, W)  ->  cols: (N, C * kh * kw, Ho * Wo)

    ``sliding_window_view`` builds a view of all windows without copying; one
    copy moves them into the matrices that the GEMMs then multiply. Rows
    are ordered (c, di, dj), matching ``weight.reshape(O, -1)``, and columns
    (i, j), so ``weight.reshape(O, -1) @ cols`` is already in (N, O, Ho * Wo)
    order: the output needs no transpose (and no copy) to become NCHW.

    ``out``, an array from an earlier call, is reused when its shape and dtype
    fit (:func:`reuse_or_empty`).
    """
    N, C = x.shape[:2]
    k = kernel_size
    windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::stride, ::stride]   # (N, C, Ho, Wo, k, k)
    Ho, Wo = windows.shape[2:4]
    out = reuse_or_empty(out, (N, C * k * k, Ho * Wo), x.dtype)
    np.copyto(out.reshape(N, C, k, k, Ho, Wo), windows.transpose(0, 1, 4, 5, 2, 3))
    return out


def grid_to_flat(a, W):
    """Spread grid columns onto flat positions: a: (N, R, Ho, Wo) -> (N, R, L).

    Reading each image as one flat row of pixels of width W, output pixel (i, j)
    sits at q = i * W + j; the result has L = (Ho - 1) * W + Wo columns, zero
    at the W - Wo positions between the end of one output row and the start
    of the next.
    """
    N, R, Ho, Wo = a.shape
    flat = np.zeros((N, R, (Ho - 1) * W + Wo), dtype=a.dtype)
    as_strided(flat, a.shape, (*flat.strides[:2], W * flat.itemsize, flat.itemsize))[...] = a
    return flat


def add_flat_runs(flat_cols, x_shape, kernel_size, stride=1):
    """col2im for columns at flat positions (see :func:`grid_to_flat`): (N, C * k * k, L) -> (N, C, H, W).

    On the flat image the input of output q at kernel offset (di, dj) is pixel
    stride * q + di * W + dj, so for each offset the whole batch's columns add
    onto one evenly spaced run of pixels: k * k additions of long runs.
    """
    N, C, H, W = x_shape
    k = kernel_size
    L = flat_cols.shape[-1]
    flat_cols = flat_cols.reshape(N, C, k, k, L)
    dx = np.zeros((N, C, H * W), dtype=flat_cols.dtype)
    for di in range(k):
        for dj in range(k):
            start = di * W + dj
            dx[:, :, start:start + stride * (L - 1) + 1:stride] += flat_cols[:, :, di, dj]
    return dx.reshape(x_shape)


def weight_grad(cols, g):
    """dL/dW of a convolution as an (O, C * k * k) matrix. cols: (N, C * k * k, P), g: (N, O, P).

    dW = sum_n G_n cols_n^T, computed as its transpose sum_n cols_n G_n^T: the
    same products, which BLAS ran about 1.7x faster at conv2's shapes (chapter 13
    times both orders).
    """
    return np.matmul(cols, g.transpose(0, 2, 1)).sum(axis=0).T


def col2im(cols, x_shape, kernel_size, stride=1):
    """Adjoint of :func:`im2col`: add every column back onto the pixels it came from.

    cols: (N, C * kh * kw, Ho * Wo)  ->  (N, C, H, W), where ``x_shape`` is the
    padded input's shape. Overlapping windows add up, which is exactly the
    chain rule for a pixel that feeds several outputs.

    Done one kernel offset at a time on the (H, W) grid, each addition moves
    short rows of Wo numbers; on the flat image (:func:`grid_to_flat`,
    :func:`add_flat_runs`) each offset adds long runs. Spreading C * k * k rows
    onto flat positions costs about what the runs save, so ``Conv2D.backward``
    spreads the O-row gradient before its product with W^T instead.
    """
    N, C, H, W = x_shape
    k = kernel_size
    Ho, Wo = conv_output_size(H, k, stride), conv_output_size(W, k, stride)
    return add_flat_runs(grid_to_flat(cols.reshape(N, C * k * k, Ho, Wo), W), x_shape, k, stride)


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
        self._cache = None

    def forward(self, x):
        """x: (N, C, H, W) -> (N, O, Ho, Wo)."""
        check_input(x, 4, "Conv2D")
        if x.shape[1] != self.in_channels:
            raise ValueError(f"Conv2D expects {self.in_channels} input channels, got x of shape {x.shape}.")
        k, s, p = self.kernel_size, self.stride, self.padding
        if x.shape[2] + 2 * p < k or x.shape[3] + 2 * p < k:
            raise ValueError(f"Conv2D: input {x.shape[2]}x{x.shape[3]} with padding {p} is smaller than the {k}x{k} kernel.")
        if p:
            # Zeros plus one copy: the same as np.pad, whose generality costs ~3x here.
            padded = np.zeros((*x.shape[:2], x.shape[2] + 2 * p, x.shape[3] + 2 * p), dtype=x.dtype)
            padded[:, :, p:-p, p:-p] = x
            x = padded
        N = x.shape[0]
        Ho, Wo = conv_output_size(x.shape[2], k, s), conv_output_size(x.shape[3], k, s)
        cols = im2col(x, k, s, out=self._cache[1] if self._cache else None)   # (N, C*k*k, Ho*Wo)
        w = self.weight.data.reshape(self.out_channels, -1).astype(x.dtype, copy=False)
        out = w @ cols                                            # a GEMM per image: (N, O, Ho*Wo)
        out += self.bias.data.astype(x.dtype, copy=False)[:, None]
        self._cache = (x.shape, cols)
        return out.reshape(N, self.out_channels, Ho, Wo)

    def backward(self, grad_out):
        """grad_out: (N, O, Ho, Wo) -> dL/dx: (N, C, H, W).

        Per image n, out_n = W cols_n + b with G_n = grad_out[n] as an (O, Ho*Wo)
        matrix, so dW = sum_n G_n cols_n^T, db = sum of G over n and positions,
        d(cols_n) = W^T G_n, and col2im adds the columns back into dx.
        """
        padded_shape, cols = self._cache
        O, p = self.out_channels, self.padding
        g = grad_out.reshape(grad_out.shape[0], O, -1)                     # (N, O, Ho*Wo)
        self.weight.grad += weight_grad(cols, g).reshape(self.weight.data.shape)
        # Before BatchNorm this gradient is zero but for rounding. It is computed
        # anyway, as in PyTorch: Adam turns even that residue into steps, so
        # skipping it would change the training run (chapter 13).
        self.bias.grad += g.sum(axis=(0, 2))
        if not self.input_grad:
            return None
        w = self.weight.data.reshape(O, -1).astype(g.dtype, copy=False)
        # col2im(W^T G) spreads the (C*k*k)-row d(cols) onto flat positions;
        # spreading commutes with the product, so spread the O-row G instead.
        dx = add_flat_runs(w.T @ grid_to_flat(grad_out, padded_shape[3]), padded_shape, self.kernel_size, self.stride)
        if p:
            dx = dx[:, :, p:-p, p:-p]
        return dx

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}")
