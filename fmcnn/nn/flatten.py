"""Flatten feature maps into vectors for the fully connected layers."""
from .module import Module


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W), keeping the batch axis. Backward reshapes back."""

    short_name = "flatten"

    def forward(self, x):
        """x: (N, ...) -> (N, prod(...))."""
        self._shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_out):
        """grad_out: (N, D) -> (N, ...) in the input's shape."""
        return grad_out.reshape(self._shape)
