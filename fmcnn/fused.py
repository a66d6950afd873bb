"""LeNet-BN as one fused forward and backward pass, for speed (chapter 13, "Crossing the layer boundaries").

The layered model of :func:`fmcnn.models.lenet_bn` is what the chapters derive:
one :class:`~fmcnn.nn.Module` per formula, each blind to its neighbours. That
contract costs time, because some of the cheapest savings are between layers.
``FusedLeNetBN`` computes the same function, and the same gradients, for the
*same* :class:`~fmcnn.nn.Parameter` objects, so optimizers, checkpoints and the
layered model itself work unchanged. What it does differently:

1. A convolution's bias feeds BatchNorm in training mode, which subtracts the
   batch mean, bias included: the bias changes nothing, and its gradient is
   zero. The fused pass neither adds it nor computes that gradient (chapter 13
   shows why the layered model keeps both).
2. ReLU commutes with max pooling (both are monotone), so ReLU runs on the
   pooled map, a quarter of the size, and its mask is just "pooled output > 0".
3. Pooling's backward pass writes every input position exactly once (2 x 2
   windows tile the map), so it needs no zero-filled array and no ``+=``.
4. conv2's input gradient is one product with a banded matrix plus 5 row
   additions (chapter 13) instead of d(cols) and col2im.
5. In evaluation mode BatchNorm is a fixed per-channel affine map, folded into
   the convolution: its weights are scaled, and the shift, a per-channel
   constant, is added after pooling (max(z + s) = max(z) + s).

Every step is still a formula of the chapters; only the packaging differs.
Results agree with the layered model up to float32 rounding (tests/test_fused.py).
"""
import numpy as np
from numpy.lib.stride_tricks import as_strided

from .nn.batchnorm import channel_sum
from .nn.conv import im2col
from .nn.module import check_input

LAYOUT = ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten1",
          "fc1", "relu3", "fc2", "relu4", "fc3")


def pool_2x2(y):
    """2x2 max pooling in two steps, across columns then across rows: y (N, C, H, W) -> (wmax (N, C, H, W/2), out (N, C, H/2, W/2)).

    The second step compares whole rows, which lie contiguous in memory, and
    the backward pass retraces both steps (:func:`pool_2x2_backward`).
    """
    wmax = np.maximum(y[..., 0::2], y[..., 1::2])
    return wmax, np.maximum(wmax[:, :, 0::2], wmax[:, :, 1::2])


def pool_2x2_backward(g, y, wmax, out):
    """Send g: (N, C, H/2, W/2) to the maximum of each window of y: -> (N, C, H, W).

    Each step goes backwards through one maximum of two: the first argument
    gets g where it equals the maximum, the second gets the rest, so on a tie
    the first (in row-major order, as in MaxPool2D) takes it all. Every
    position is written once (the windows tile the map): no zero fill, no ``+=``.
    """
    dwmax = np.empty_like(wmax)
    np.multiply(g, wmax[:, :, 0::2] == out, out=dwmax[:, :, 0::2])
    np.subtract(g, dwmax[:, :, 0::2], out=dwmax[:, :, 1::2])
    dy = np.empty_like(y)
    np.multiply(dwmax, y[..., 0::2] == wmax, out=dy[..., 0::2])
    np.subtract(dwmax, dy[..., 0::2], out=dy[..., 1::2])
    return dy


class FusedLeNetBN:
    """The forward and backward pass of a :func:`~fmcnn.models.lenet_bn` model, fused across layers.

    Args:
        model: a LeNet-BN ``Sequential`` (any ``width``). Its parameters, buffers
            and ``training`` flag are used, not copied: ``FusedLeNetBN(model)``
            and ``model`` are two ways of running one network.

    ``forward(x)``: x (N, 1, 28, 28) -> logits (N, 10). ``backward(grad_logits)``
    adds every parameter's gradient into its ``.grad`` and returns None (the
    images' gradient is never needed in training).
    """

    def __init__(self, model):
        names = list(getattr(model, "names", []))
        if names != list(LAYOUT):
            raise ValueError(f"FusedLeNetBN needs a model built by fmcnn.models.lenet_bn (layers {', '.join(LAYOUT)}); "
                             f"got layers {', '.join(names) or type(model).__name__}.")
        conv1, conv2, pool1, pool2 = model["conv1"], model["conv2"], model["pool1"], model["pool2"]
        if ((conv1.kernel_size, conv1.stride, conv1.padding, conv2.kernel_size, conv2.stride, conv2.padding) != (5, 1, 2, 5, 1, 0)
                or (pool1.kernel_size, pool1.stride, pool2.kernel_size, pool2.stride) != (2, 2, 2, 2)):
            raise ValueError("FusedLeNetBN needs lenet_bn's layer settings (5x5 convolutions with padding 2 and 0, "
                             "2x2 pooling); this model was modified.")
        self.model = model
        self._blocks = [(conv1, model["bn1"]), (conv2, model["bn2"])]
        self._fcs = [model["fc1"], model["fc2"], model["fc3"]]
        self._cols = [None, None]           # im2col matrices, reused from step to step (chapter 13)
        self._cache = None

    def parameters(self):
        return self.model.parameters()

    def named_parameters(self, prefix=""):
        return self.model.named_parameters(prefix)

    def zero_grad(self):
        self.model.zero_grad()

    @property
    def training(self):
        return self.model.training

    def train(self, mode=True):
        self.model.train(mode)
        return self

    def eval(self):
        return self.train(False)

    def forward(self, x):
        """x: (N, 1, 28, 28) -> logits (N, 10)."""
        check_input(x, 4, "FusedLeNetBN")
        if x.shape[1:] != (1, 28, 28):
            raise ValueError(f"FusedLeNetBN expects images of shape (N, 1, 28, 28), got {x.shape}.")
        N = x.shape[0]
        padded = np.zeros((N, 1, 32, 32), dtype=x.dtype)
        padded[:, :, 2:-2, 2:-2] = x
        a, block_caches = padded, []
        for i, (conv, bn) in enumerate(self._blocks):
            self._cols[i] = cols = im2col(a, 5, out=self._cols[i])                 # (N, C*25, Ho*Wo)
            size = a.shape[2] - 4
            if self.training:
                z = conv.weight.data.reshape(conv.out_channels, -1).astype(x.dtype, copy=False) @ cols
                a, cache = self._bn_relu_pool(z.reshape(N, -1, size, size), conv, bn)
                block_caches.append((cols, cache))
            else:
                a = self._folded_conv_bn_pool_relu(cols, conv, bn, size)
        h = a.reshape(N, -1)
        fc_inputs = []
        for i, fc in enumerate(self._fcs):
            fc_inputs.append(h)
            h = h @ fc.weight.data.T.astype(x.dtype, copy=False) + fc.bias.data.astype(x.dtype, copy=False)
            if i < 2:
                np.maximum(h, 0, out=h)
        if self.training:
            self._cache = (block_caches, fc_inputs, a.shape)
        return h

    def _bn_relu_pool(self, z, conv, bn):
        """Training-mode BatchNorm, ReLU and 2x2 max pooling of a convolution's output z: (N, C, H, W) -> (N, C, H/2, W/2).

        z is the convolution without its bias (point 1); the running mean gets
        the bias added back, so it matches the layered model's.
        """
        N, C, H, W = z.shape
        m = N * H * W
        mean = channel_sum(z) / m
        centred = np.subtract(z, mean[:, None, None], out=z)                   # z is ours: work in place
        var = channel_sum(np.square(centred)) / m
        bn.update_running_stats(mean + conv.bias.data, var, m)
        inv_std = (1.0 / np.sqrt(var + bn.eps)).astype(z.dtype)
        gamma = bn.weight.data.astype(z.dtype, copy=False)
        sign = np.where(gamma < 0, -1, 1).astype(z.dtype)
        u = np.multiply(centred, (sign * inv_std)[:, None, None], out=centred)   # u = sign * x_hat (point 2)
        wmax, pooled_u = pool_2x2(u)
        out = pooled_u * np.abs(gamma)[:, None, None]
        out += bn.bias.data.astype(z.dtype, copy=False)[:, None, None]
        np.maximum(out, 0, out=out)                                            # ReLU after pooling (point 3)
        return out, (u, wmax, pooled_u, out, inv_std, sign)

    def _bn_relu_pool_backward(self, grad_out, conv, bn, cache):
        """grad_out: (N, C, H/2, W/2) -> dL/dz: (N, C, H, W); adds BatchNorm's parameter gradients."""
        u, wmax, pooled_u, out, inv_std, sign = cache
        N, C, H, W = u.shape
        m = N * H * W
        g = grad_out * (out > 0)                                               # ReLU's backward pass, on the pooled map
        # dL/dy is g at each window's maximum and 0 elsewhere, so BatchNorm's sums over
        # all of dy reduce to sums over the pooled map: dbeta = sum(dy) = sum(g) and
        # dgamma = sum(dy * x_hat) = sum(g * x_hat at the maxima) = sign * sum(g * pooled_u).
        dbeta = channel_sum(g)
        dgamma = sign * channel_sum(g * pooled_u)
        bn.weight.grad += dgamma
        bn.bias.grad += dbeta
        # Chapter 7: dz = a * (dy - dbeta / m - x_hat * dgamma / m) with a = gamma * inv_std and x_hat = sign * u,
        # assembled as (a * dy, routed from the pooled map) + (u * k1 + k0), k1 and k0 per channel.
        a = bn.weight.data.astype(u.dtype, copy=False) * inv_std
        dz = pool_2x2_backward(g * a[:, None, None], u, wmax, pooled_u)        # every position written once (point 4)
        k1, k0 = (-a * sign * dgamma / m).astype(u.dtype), (-a * dbeta / m).astype(u.dtype)
        rest = np.multiply(u, k1[:, None, None])
        rest += k0[:, None, None]
        dz += rest
        # conv.bias.grad gets nothing: it would be sum(dz), zero but for rounding (point 1).
        return dz

    def _folded_conv_bn_pool_relu(self, cols, conv, bn, size):
        """Evaluation mode: conv, BatchNorm with running statistics, pooling and ReLU (point 5). cols -> (N, O, size/2, size/2)."""
        dtype = cols.dtype
        scale = bn.weight.data / np.sqrt(bn.running_var + bn.eps)                           # (O,)
        shift = bn.bias.data + (conv.bias.data - bn.running_mean) * scale
        w = (conv.weight.data.reshape(conv.out_channels, -1) * scale[:, None]).astype(dtype)
        _, out = pool_2x2((w @ cols).reshape(cols.shape[0], -1, size, size))
        out += shift.astype(dtype)[:, None, None]
        return np.maximum(out, 0, out=out)

    def backward(self, grad_logits):
        """grad_logits: (N, 10) -> None; adds d(loss)/d(parameter) into every parameter's ``.grad``."""
        if self._cache is None:
            raise RuntimeError("FusedLeNetBN.backward needs a forward pass in training mode first.")
        (cols1, cache1), (cols2, cache2) = self._cache[0]
        fc_inputs, pooled_shape = self._cache[1:]
        g = grad_logits
        for i in (2, 1, 0):
            fc = self._fcs[i]
            fc.weight.grad += g.T @ fc_inputs[i]
            fc.bias.grad += g.sum(axis=0)
            g = g @ fc.weight.data.astype(g.dtype, copy=False)
            if i > 0:
                g *= fc_inputs[i] > 0                                            # the ReLU before fc[i]
        (conv1, bn1), (conv2, bn2) = self._blocks
        dz2 = self._bn_relu_pool_backward(g.reshape(pooled_shape), conv2, bn2, cache2)
        self._add_weight_grad(conv2, cols2, dz2)
        dz1 = self._bn_relu_pool_backward(self._input_grad_banded(dz2, conv2), conv1, bn1, cache1)
        self._add_weight_grad(conv1, cols1, dz1)
        self._cache = None

    @staticmethod
    def _add_weight_grad(conv, cols, dz):
        """dW^T = sum_n cols_n G_n^T (as in Conv2D.backward). cols: (N, C*25, P), dz: (N, O, Ho, Wo)."""
        g = dz.reshape(dz.shape[0], dz.shape[1], -1)
        conv.weight.grad += (cols @ g.transpose(0, 2, 1)).sum(axis=0).T.reshape(conv.weight.data.shape)

    def _input_grad_banded(self, dz, conv):
        """conv2's dL/dx from one banded product (point 4). dz: (N, O, 10, 10) -> (N, C, 14, 14)."""
        N, O, Ho, Wo = dz.shape
        C, k, W = conv.in_channels, 5, Wo + 4
        # t[(o, j), (a, c, w)] = weight[o, c, a, w - j] inside the band 0 <= w - j < k, zero outside.
        # Moving one step in j and one in w at once is a step of t.strides[1] + t.strides[4]
        # bytes, so the band itself is a strided view of t, filled in one copy.
        t = np.zeros((O, Wo, k, C, W), dtype=dz.dtype)
        s = t.strides
        band = as_strided(t, (O, Wo, k, C, k), (s[0], s[1] + s[4], s[2], s[3], s[4]))   # band[o, j, a, c, b] is t[o, j, a, c, j + b]
        band[...] = conv.weight.data.transpose(0, 2, 1, 3)[:, None]
        rows = np.ascontiguousarray(dz.transpose(0, 2, 1, 3)).reshape(N * Ho, O * Wo)   # one row per (n, i)
        r = (rows @ t.reshape(O * Wo, k * C * W)).reshape(N, Ho, k, C, W)
        dx = np.zeros((N, Ho + k - 1, C, W), dtype=dz.dtype)                      # image rows, channels inside
        for a in range(k):
            dx[:, a:a + Ho] += r[:, :, a]                                        # kernel row a lands a rows further down
        return dx.transpose(0, 2, 1, 3)
