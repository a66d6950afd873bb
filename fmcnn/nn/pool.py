"""Max pooling: chapter 6."""
import numpy as np

from .conv import conv_output_size
from .module import Module


class MaxPool2D(Module):
    """Take the maximum of every k x k window.

    Args:
        kernel_size: k.
        stride: step between windows; defaults to ``kernel_size`` (non-overlapping).

    Shapes: x (N, C, H, W) -> (N, C, Ho, Wo), Ho = (H - k) // stride + 1
    (leftover rows and columns are dropped, as PyTorch does).

    The output depends only on the largest value of each window, so the backward
    pass sends each output gradient to that one input (the first of them in
    row-major order on a tie, as PyTorch does) and zero to the others.
    """

    short_name = "pool"

    def __init__(self, kernel_size=2, stride=None):
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, Ho, Wo).

        For each offset (a, b) in the window, ``x[:, :, a::stride, b::stride]``
        (cut to Ho x Wo) holds that position of every window at once, so k * k
        elementwise maxima of whole maps give every window's maximum.
        """
        self.check_input(x, 4, "(N, C, H, W)")
        k = self.kernel_size
        if x.shape[2] < k or x.shape[3] < k:
            raise ValueError(f"MaxPool2D: input {x.shape[2]}x{x.shape[3]} is smaller than the {k}x{k} window.")
        offsets = self._offsets(x.shape)
        out = x[offsets[0]]
        for at in offsets[1:]:
            out = np.maximum(out, x[at])
        self._cache = (x, out)
        return out

    def backward(self, grad_out):
        """grad_out: (N, C, Ho, Wo) -> dL/dx: (N, C, H, W), non-zero only at each window's maximum.

        Going through the offsets in row-major order, a position receives the
        window's gradient where it equals the maximum and no earlier offset did
        (``taken``), so a tie goes to the first maximum only. ``+=`` adds up
        gradients that land on the same input, which happens when windows
        overlap (stride < kernel_size).
        """
        x, out = self._cache
        dx = np.zeros(x.shape, dtype=grad_out.dtype)
        taken = np.zeros(out.shape, dtype=bool)
        for at in self._offsets(x.shape):
            hit = (x[at] == out) & ~taken
            taken |= hit
            dx[at] += grad_out * hit
        return dx

    def _offsets(self, x_shape):
        """For each offset (a, b) of the window, row-major, the index of that position in every window:
        ``x[at]`` is (N, C, Ho, Wo)."""
        k, s = self.kernel_size, self.stride
        Ho, Wo = conv_output_size(x_shape[2], k, s), conv_output_size(x_shape[3], k, s)
        return [(slice(None), slice(None), slice(a, a + s * Ho, s), slice(b, b + s * Wo, s))
                for a in range(k) for b in range(k)]

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}"
