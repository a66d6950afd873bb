"""The ReLU activation."""
import numpy as np

from .module import Module


class ReLU(Module):
    """y = max(x, 0), elementwise. Any shape.

    Its derivative is 1 where x > 0 and 0 elsewhere (we take 0 at x = 0, like PyTorch).
    """

    short_name = "relu"

    def forward(self, x):
        """x: any shape -> same shape."""
        self._mask = x > 0
        return np.maximum(x, 0)

    def backward(self, grad_out):
        """grad_out: same shape as x -> dL/dx."""
        return grad_out * self._mask
