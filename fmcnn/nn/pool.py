"""Max pooling."""
import numpy as np

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
        # One strided view per position in the window: view (di, dj) holds that
        # position of every window at once, so k*k elementwise maxima do all the
        # work (much faster than reducing over small trailing axes).
        out = self._view(x, 0, Ho, Wo).copy()
        for pos in range(1, k * k):
            np.maximum(out, self._view(x, pos, Ho, Wo), out=out)
        self._cache = (x, out)
        return out

    def _view(self, x, pos, Ho, Wo):
        """The values at position ``pos`` (row-major within the k x k window) of every window: (N, C, Ho, Wo)."""
        di, dj = divmod(pos, self.kernel_size)
        s = self.stride
        return x[:, :, di:di + s * Ho:s, dj:dj + s * Wo:s]

    def backward(self, grad_out):
        """grad_out: (N, C, Ho, Wo) -> dL/dx: (N, C, H, W), non-zero only at each window's maximum.

        A position receives the window's gradient where it equals the maximum
        and no earlier position did (``taken``), so a tie goes to the first
        maximum only. ``+=`` adds up gradients that land on the same input,
        which happens when windows overlap (stride < kernel_size).
        """
        x, out = self._cache
        Ho, Wo = out.shape[2:]
        dx = np.zeros(x.shape, dtype=grad_out.dtype)
        taken = np.zeros(out.shape, dtype=bool)
        for pos in range(self.kernel_size ** 2):
            hit = self._view(x, pos, Ho, Wo) == out
            hit &= ~taken
            taken |= hit
            self._view(dx, pos, Ho, Wo)[...] += grad_out * hit
        return dx

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
