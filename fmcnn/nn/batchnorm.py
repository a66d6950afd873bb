"""Batch normalization over the channels of a convolutional feature map."""
import numpy as np

from .module import Module, Parameter, check_input


class BatchNorm2D(Module):
    """Normalize each channel over the batch and spatial positions, then scale and shift.

    Training mode: y = gamma * (x - mean) / sqrt(var + eps) + beta, with mean and
    (biased) var over axes (N, H, W) of this batch; the running statistics are
    updated as running = (1 - momentum) * running + momentum * batch_stat, using
    the unbiased variance, as PyTorch does. Evaluation mode uses the running
    statistics instead, so a prediction does not depend on the rest of the batch.

    Shapes: x (N, C, H, W) -> y (N, C, H, W); weight (gamma), bias (beta),
    running_mean and running_var are (C,).
    """

    _param_names = ("weight", "bias")
    _buffer_names = ("running_mean", "running_var")
    short_name = "bn"

    def __init__(self, num_features, momentum=0.1, eps=1e-5):
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        self.weight = Parameter(np.ones(num_features, dtype=np.float32), "weight")
        self.bias = Parameter(np.zeros(num_features, dtype=np.float32), "bias")
        self.running_mean = np.zeros(num_features, dtype=np.float32)
        self.running_var = np.ones(num_features, dtype=np.float32)

    def forward(self, x):
        """x: (N, C, H, W) -> (N, C, H, W)."""
        check_input(x, 4, "BatchNorm2D")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2D expects {self.num_features} channels, got x of shape {x.shape}.")
        axes = (0, 2, 3)
        if self.training:
            m = x.shape[0] * x.shape[2] * x.shape[3]
            if m < 2:
                raise ValueError("BatchNorm2D in training mode needs more than one value per channel "
                                 f"(got x of shape {x.shape}); use a larger batch or model.eval().")
            mean = x.mean(axis=axes)
            var = x.var(axis=axes)
            self.running_mean = ((1 - self.momentum) * self.running_mean + self.momentum * mean).astype(self.running_mean.dtype)
            self.running_var = ((1 - self.momentum) * self.running_var
                                + self.momentum * var * (m / (m - 1))).astype(self.running_var.dtype)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
        self._cache = (x_hat, inv_std, self.training)
        gamma = self.weight.data.astype(x.dtype, copy=False)
        beta = self.bias.data.astype(x.dtype, copy=False)
        return x_hat * gamma[:, None, None] + beta[:, None, None]

    def backward(self, grad_out):
        """grad_out: (N, C, H, W) -> dL/dx: (N, C, H, W).

        With m values per channel and g = grad_out * gamma (the gradient w.r.t. x_hat):
        training mode  dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)),
        because mean and var depend on x as well; evaluation mode dx = inv_std * g.
        """
        x_hat, inv_std, training = self._cache
        axes = (0, 2, 3)
        self.weight.grad += (grad_out * x_hat).sum(axis=axes)
        self.bias.grad += grad_out.sum(axis=axes)
        g = grad_out * self.weight.data.astype(grad_out.dtype, copy=False)[:, None, None]
        if training:
            g = g - g.mean(axis=axes, keepdims=True) - x_hat * (g * x_hat).mean(axis=axes, keepdims=True)
        return g * inv_std[:, None, None]

    def extra_repr(self):
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
