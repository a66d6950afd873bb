"""col2im on the flattened image: k * k additions of long runs instead of short rows (the
appendix, book/14_the_fast_package).

:func:`fmcnn.nn.col2im` adds, for each kernel offset, a grid of Ho x Wo numbers
whose rows are only Wo long. Read each image as one flat row of pixels of width W
and the same additions become one evenly spaced run per offset. Only chapter 13
uses these functions: :class:`fmcnn.fast.FusedLeNetBN` gets conv2's input
gradient from a banded product instead, and conv1's is never needed.
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided


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
