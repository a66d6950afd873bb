"""im2col into arrays kept from step to step, and with channels innermost (chapter 13)."""
import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from ..nn.conv import conv_output_size
from .buffers import reuse_or_empty


def im2col_into(x, kernel_size, out):
    """:func:`fmcnn.nn.im2col` of x: (N, C, H, W), stride 1, written into ``out``: (N, C * k * k, Ho * Wo).

    One copy from the view of all windows into an array that already exists
    (see :func:`reuse_or_empty`), instead of a new matrix every step. Returns ``out``.
    """
    N, C = x.shape[:2]
    k = kernel_size
    windows = sliding_window_view(x, (k, k), axis=(2, 3))   # (N, C, Ho, Wo, k, k)
    Ho, Wo = windows.shape[2:4]
    np.copyto(out.reshape(N, C, k, k, Ho, Wo), windows.transpose(0, 1, 4, 5, 2, 3))
    return out


def im2col_channels_last(x, kernel_size, out=None):
    """im2col with channels innermost: x (N, C, H, W) -> cols (N, Ho * Wo, k * k * C), columns (di, dj, c).

    In a channels-last copy of x, the k * C numbers of one window row
    (dj, c) lie next to each other, so the windows are copied in runs of
    k * C = 30 numbers (for conv2) instead of Wo = 10. ``out``: an array from an
    earlier call, reused when its shape and dtype fit (:func:`reuse_or_empty`).
    """
    N, C, H, W = x.shape
    k = kernel_size
    Ho, Wo = conv_output_size(H, k), conv_output_size(W, k)
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    s = nhwc.strides
    windows = as_strided(nhwc, (N, Ho, Wo, k, k * C), (s[0], s[1], s[2], s[1], s[3]))   # windows[n, i, j, di] = one run
    out = reuse_or_empty(out, (N, Ho * Wo, k * k * C), x.dtype)
    np.copyto(out.reshape(windows.shape), windows)
    return out
