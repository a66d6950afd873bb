"""Batch normalization over the channels of a convolutional feature map: chapter 7."""
import numpy as np

from .module import Module, Parameter

AXES = (0, 2, 3)   # a channel's statistics run over the batch and every position: N, H and W


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
        self.check_input(x, 4, "(N, C, H, W)")
        if x.shape[1] != self.num_features:
            raise ValueError(f"BatchNorm2D expects {self.num_features} channels, got x of shape {x.shape}.")
        m = x.shape[0] * x.shape[2] * x.shape[3]
        if self.training:
            if m < 2:
                raise ValueError("BatchNorm2D in training mode needs more than one value per channel "
                                 f"(got x of shape {x.shape}); use a larger batch or model.eval().")
            mean = x.mean(axis=AXES)                                      # (C,)
            centred = x - mean[:, None, None]
            var = (centred ** 2).mean(axis=AXES)                          # biased variance, (C,)
            self.update_running_stats(mean, var, m)
        else:
            var = self.running_var
            centred = x - self.running_mean[:, None, None]
        inv_std = 1.0 / np.sqrt(var + self.eps)
        x_hat = centred * inv_std[:, None, None]                          # standardized
        self._cache = (x_hat, inv_std, self.training)
        return self.weight.data[:, None, None] * x_hat + self.bias.data[:, None, None]

    def update_running_stats(self, mean, var, m):
        """Fold one batch's mean and biased variance, over m values per channel, into the running statistics."""
        self.running_mean = (1 - self.momentum) * self.running_mean + self.momentum * mean
        self.running_var = (1 - self.momentum) * self.running_var + self.momentum * var * (m / (m - 1))

    def backward(self, grad_out):
        """grad_out: (N, C, H, W) -> dL/dx: (N, C, H, W).

        dgamma = sum(grad_out * x_hat) and dbeta = sum(grad_out) over N, H and W.
        In training mode the mean and variance depend on x as well; with
        g = gamma * grad_out, chapter 7 derives
            dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat)).
        In evaluation mode they are constants and dx = inv_std * g.
        """
        x_hat, inv_std, training = self._cache
        self.weight.grad += (grad_out * x_hat).sum(axis=AXES)
        self.bias.grad += grad_out.sum(axis=AXES)
        g = grad_out * self.weight.data[:, None, None]
        if not training:
            return inv_std[:, None, None] * g
        g_mean = g.mean(axis=AXES)[:, None, None]
        gx_mean = (g * x_hat).mean(axis=AXES)[:, None, None]
        return inv_std[:, None, None] * (g - g_mean - x_hat * gx_mean)

    def extra_repr(self):
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
