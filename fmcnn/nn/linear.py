"""The fully connected (affine) layer."""
import numpy as np

from .init import he_normal
from .module import Module, Parameter


class Linear(Module):
    """y = x W^T + b.

    Shapes: x (N, in_features) -> y (N, out_features); weight (out_features,
    in_features) as in PyTorch, bias (out_features,).
    """

    _param_names = ("weight", "bias")
    short_name = "fc"

    def __init__(self, in_features, out_features, rng=None):
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(he_normal((out_features, in_features), in_features, rng), "weight")
        self.bias = Parameter(np.zeros(out_features, dtype=np.float32), "bias")

    def forward(self, x):
        """x: (N, in_features) -> (N, out_features)."""
        self.check_input(x, 2, "(N, in_features)")
        if x.shape[1] != self.in_features:
            raise ValueError(f"Linear expects {self.in_features} input features, got x of shape {x.shape}.")
        self._x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, grad_out):
        """grad_out: (N, out_features) -> dL/dx: (N, in_features).

        dW = grad_out^T x, db = column sums of grad_out, dx = grad_out W.
        """
        self.weight.grad += grad_out.T @ self._x
        self.bias.grad += grad_out.sum(axis=0)
        return grad_out @ self.weight.data

    def extra_repr(self):
        return f"{self.in_features}, {self.out_features}"
