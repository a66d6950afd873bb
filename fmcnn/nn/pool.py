"""Max pooling."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .conv import conv_output_size
from .module import Module, check_input


class MaxPool2D(Module):
    """Take the maximum of every k x k window.

    Args:
        kernel_size: k.
        stride: step between windows; defaults to ``kernel_size`` (non-overlapping).

    Shapes: x (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H - k) // stride + 1
    (leftover rows and columns are dropped, as PyTorch does).

    The output depends only on the largest value of each window, so the backward
    pass sends each output gradient to that one input (the first of them on a
    tie, as PyTorch does) and zero to the others.
    """

    short_name = "pool"

    def __init__(self, kernel_size=2, stride=None):
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, Ho, Wo)."""
        check_input(x, 4, "MaxPool2D")
        k, s = self.kernel_size, self.stride
        N, C, H, W = x.shape
        if H < k or W < k:
            raise ValueError(f"MaxPool2D: input {H}x{W} is smaller than the {k}x{k} window.")
        Ho, Wo = conv_output_size(H, k, s), conv_output_size(W, k, s)
        windows = sliding_window_view(x, (k, k), axis=(2, 3))[:, :, ::s, ::s].reshape(N, C, Ho, Wo, k * k)
        arg = windows.argmax(axis=-1)                                  # (N, C, Ho, Wo), first max wins
        out = np.take_along_axis(windows, arg[..., None], axis=-1)[..., 0]
        # Where in x each maximum sits, as a flat index into x: the backward pass is then one bincount.
        rows = np.arange(Ho)[:, None] * s + arg // k
        cols = np.arange(Wo)[None, :] * s + arg % k
        planes = np.arange(N * C).reshape(N, C, 1, 1)
        self._cache = ((planes * H + rows) * W + cols, x.shape)
        return out

    def backward(self, grad_out):
        """grad_out: (N, C, Ho, Wo) -> dL/dx: (N, C, H, W), non-zero only at each window's argmax.

        ``bincount`` adds the gradients that land on the same input, which happens
        when windows overlap (stride < kernel_size).
        """
        flat_index, x_shape = self._cache
        dx = np.bincount(flat_index.ravel(), weights=grad_out.ravel(), minlength=int(np.prod(x_shape)))
        return dx.reshape(x_shape).astype(grad_out.dtype, copy=False)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
