"""Batch normalization over the channels of a convolutional feature map."""
import numpy as np

from .module import Module, Parameter, check_input


def image_channel_sums(x):
    """Sum of x: (N, C, H, W) over H and W, image by image: (N, C).

    Written as a matrix-vector product with a ones vector, which runs in BLAS
    and is several times faster than ``x.sum(axis=(2, 3))`` here.
    """
    N, C = x.shape[:2]
    return x.reshape(N, C, -1) @ np.ones(x[0, 0].size, dtype=x.dtype)


def channel_sum(x):
    """Sum of x: (N, C, H, W) over N, H and W: (C,), through :func:`image_channel_sums`."""
    return image_channel_sums(x).sum(axis=0)


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
        m = x.shape[0] * x.shape[2] * x.shape[3]
        if self.training:
            if m < 2:
                raise ValueError("BatchNorm2D in training mode needs more than one value per channel "
                                 f"(got x of shape {x.shape}); use a larger batch or model.eval().")
            mean = channel_sum(x) / m
            centred = x - mean[:, None, None]
            var = channel_sum(np.square(centred)) / m
            self.update_running_stats(mean, var, m)
        else:
            mean, var = self.running_mean.astype(x.dtype), self.running_var.astype(x.dtype)
            centred = x - mean[:, None, None]
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)
        # In place: each full-size temporary costs a pass over memory, and this
        # layer's are the size of the whole feature map.
        x_hat = np.multiply(centred, inv_std[:, None, None], out=centred)
        self._cache = (x_hat, inv_std, self.training)
        gamma = self.weight.data.astype(x.dtype, copy=False)
        beta = self.bias.data.astype(x.dtype, copy=False)
        out = x_hat * gamma[:, None, None]
        out += beta[:, None, None]
        return out

    def update_running_stats(self, mean, var, m):
        """Fold one batch's mean and biased variance, over m values per channel, into the running statistics."""
        self.running_mean = ((1 - self.momentum) * self.running_mean + self.momentum * mean).astype(self.running_mean.dtype)
        self.running_var = ((1 - self.momentum) * self.running_var
                            + self.momentum * var * (m / (m - 1))).astype(self.running_var.dtype)

    def backward(self, grad_out):
        """grad_out: (N, C, H, W) -> dL/dx: (N, C, H, W).

        With m values per channel, dgamma = sum(grad_out * x_hat) and
        dbeta = sum(grad_out). In training mode the mean and variance depend on
        x as well, which gives
            dx = gamma * inv_std * (grad_out - dbeta / m - x_hat * dgamma / m);
        in evaluation mode they are constants and dx = gamma * inv_std * grad_out.
        """
        x_hat, inv_std, training = self._cache
        m = grad_out.shape[0] * grad_out.shape[2] * grad_out.shape[3]
        dgamma = channel_sum(grad_out * x_hat)
        dbeta = channel_sum(grad_out)
        self.weight.grad += dgamma
        self.bias.grad += dbeta
        scale = (self.weight.data.astype(grad_out.dtype, copy=False) * inv_std)[:, None, None]
        if not training:
            return grad_out * scale
        dx = grad_out - (dbeta / m)[:, None, None]
        dx -= x_hat * (dgamma / m)[:, None, None]
        dx *= scale
        return dx

    def extra_repr(self):
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"
