"""LeNet-BN as one fused forward and backward pass, for speed (chapter 13, "Crossing the layer boundaries").

The layered model of :func:`fmcnn.models.lenet_bn` is what the chapters derive:
one :class:`~fmcnn.nn.Module` per formula, each blind to its neighbours. That
contract costs time, because some of the cheapest savings lie between layers.
``FusedLeNetBN`` computes the same function, and the same gradients, for the
*same* :class:`~fmcnn.nn.Parameter` objects, so optimizers, checkpoints and the
layered model itself work unchanged. What it does differently:

1. A convolution's bias feeds BatchNorm in training mode, which subtracts the
   batch mean, bias included: the bias changes nothing, and its gradient is
   zero. The fused pass neither adds it nor computes that gradient (chapter 13
   shows why the layered model keeps both).
2. Pooling comes before BatchNorm's scale and shift. With u = sign(gamma) * x_hat,
   BatchNorm's output is y = |gamma| * u + beta, which grows with u, so the
   maximum of y in a window sits where u is largest: pool u, then scale, shift
   and apply ReLU (which commutes with the maximum too) on a quarter of the
   values. In the backward pass dL/dy is zero except at the window maxima, so
   BatchNorm's sums for dgamma and dbeta run over the pooled map as well.
3. Pooling's backward pass writes every input position exactly once (2 x 2
   windows tile the map): no zero fill and no ``+=``.
4. conv2 unfolds its input channels last, copying runs of 30 numbers instead
   of 10, and multiplies all images' windows in one GEMM.
5. conv2's input gradient is a product with a banded matrix (chapter 13),
   cut into two halves that waste less work on the zeros outside the band.
6. In evaluation mode BatchNorm is a fixed per-channel affine map: the scale
   goes into the filters and the shift, a constant per channel, is added
   after pooling (max(z + s) = max(z) + s).
7. Evaluation runs through a large batch in slices that fit in the caches.
8. Two cores without BLAS threads. NumPy releases Python's global interpreter
   lock inside a matrix product, so a helper thread can run one product while
   this thread runs another. conv2's forward product and its banded product
   are each split into two halves of rows, one half per thread, and conv2's
   weight gradient runs on the helper while this thread computes the rest of
   the backward pass (block 1, conv1's weight gradient), which needs only
   dL/dz2 as well. BLAS computes each row of a product on its own, so the
   halves hold the same numbers as one call (tests/test_fused.py checks this
   to the last bit).

Every step is a formula of the chapters in another order; only the packaging
differs. Results agree with the layered model up to float32 rounding
(tests/test_fused.py). The layered model stays the reference: read it first.
"""
import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.lib.stride_tricks import as_strided

from .nn.batchnorm import channel_sum
from .nn.conv import conv_output_size, im2col, reuse_or_empty, weight_grad
from .nn.module import check_input

LAYOUT = ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten1",
          "fc1", "relu3", "fc2", "relu4", "fc3")


EVAL_CHUNK = 64

# One helper thread for point 8 (started on first use). It never spins: while it has no
# product to compute it sleeps, so on a busy machine it costs nothing but a wait.
_HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fmcnn-fused")


def _new_helper():
    global _HELPER
    _HELPER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fmcnn-fused")


if hasattr(os, "register_at_fork"):
    # Threads do not survive fork(): a child process would hand its products to a helper that
    # no longer exists and wait for ever. Each child starts a helper of its own instead.
    os.register_at_fork(after_in_child=_new_helper)


def on_two_cores(compute, n):
    """Call compute(lo, hi) for the first half of range(n) on the helper thread and for the second half here.

    Returns when both are done. Handing a task over costs tens of microseconds,
    so this pays only for products of a few hundred microseconds or more.
    """
    half = n // 2
    first = _HELPER.submit(compute, 0, half)
    compute(half, n)
    first.result()


def im2col_channels_last(x, kernel_size, out=None):
    """im2col with channels innermost: x (N, C, H, W) -> cols (N, Ho * Wo, k * k * C), columns (di, dj, c).

    In a channels-last copy of x, the k * C numbers of one window row
    (dj, c) lie next to each other, so the windows are copied in runs of
    k * C = 30 numbers (for conv2) instead of Wo = 10. ``out`` is reused as in
    :func:`fmcnn.nn.im2col`.
    """
    N, C, H, W = x.shape
    k = kernel_size
    Ho, Wo = conv_output_size(H, k), conv_output_size(W, k)
    nhwc = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    s = nhwc.strides
    windows = as_strided(nhwc, (N, Ho, Wo, k, k * C), (s[0], s[1], s[2], s[1], s[3]))   # windows[n, i, j, di] = one run
    out = reuse_or_empty(out, (N, Ho * Wo, k * k * C), x.dtype)
    np.copyto(out.reshape(windows.shape), windows)
    return out


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
        self._padded = None
        self._cache = None

    def parameters(self):
        return self.model.parameters()

    def named_parameters(self, prefix=""):
        return self.model.named_parameters(prefix)

    def named_buffers(self, prefix=""):
        return self.model.named_buffers(prefix)

    def zero_grad(self):
        self.model.zero_grad()

    def to(self, dtype):
        self.model.to(dtype)
        return self

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
        if not self.training and N > EVAL_CHUNK:
            # Images are independent in evaluation mode. In slices of EVAL_CHUNK, the im2col
            # matrices (7 MB) stay in the processor's caches; at batch 1000 (140 MB) every
            # product would stream them from main memory (point 7).
            return np.concatenate([self.forward(x[i:i + EVAL_CHUNK]) for i in range(0, N, EVAL_CHUNK)])
        padded = self._padded
        if padded is None or padded.shape[0] != N or padded.dtype != x.dtype:
            self._padded = padded = np.zeros((N, 1, 32, 32), dtype=x.dtype)   # the zero border is never written
        padded[:, :, 2:-2, 2:-2] = x
        self._cols[0] = cols1 = im2col(padded, 5, out=self._cols[0])                  # (N, 25, 28*28)
        z1 = self._conv_product(0, cols1, x.dtype)                                     # (N, 6, 28*28)
        a1, cache1 = self._bn_relu_pool(z1.reshape(N, -1, 28, 28), 0)
        self._cols[1] = cols2 = im2col_channels_last(a1, 5, out=self._cols[1])        # (N, 10*10, 25*6) (point 4)
        z2 = self._conv_product(1, cols2, x.dtype)                                     # (N, 16, 10*10)
        a2, cache2 = self._bn_relu_pool(z2.reshape(N, -1, 10, 10), 1)
        h = a2.reshape(N, -1)
        fc_inputs = []
        for i, fc in enumerate(self._fcs):
            fc_inputs.append(h)
            h = h @ fc.weight.data.T.astype(x.dtype, copy=False) + fc.bias.data.astype(x.dtype, copy=False)
            if i < 2:
                np.maximum(h, 0, out=h)
        if self.training:
            self._cache = ((cols1, cache1), (cols2, cache2), fc_inputs, a2.shape)
        return h

    def _weight_matrix(self, i):
        """Block i's filters as an (O, C*k*k) matrix whose columns follow its im2col rows:
        (c, di, dj) for conv1 (chapter 4's order), (di, dj, c) for conv2 (channels last)."""
        w = self._blocks[i][0].weight.data
        return (w if i == 0 else w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)

    def _conv_product(self, i, cols, dtype):
        """Block i's convolution without bias, (N, O, Ho*Wo). In evaluation mode each filter
        is first scaled by BatchNorm's factor (point 6)."""
        w = self._weight_matrix(i)
        if not self.training:
            w = w * self._eval_scale_shift(i)[0][:, None]
        w = w.astype(dtype, copy=False)
        if i == 0:
            return w @ cols                                           # a GEMM per image: (O, 25) @ (25, Ho*Wo)
        N, P, K = cols.shape
        rows, w_t = cols.reshape(N * P, K), w.T
        z = np.empty((N * P, w.shape[0]), dtype)                      # one GEMM, (N*Ho*Wo, 150) @ (150, O),
        on_two_cores(lambda lo, hi: np.matmul(rows[lo:hi], w_t, out=z[lo:hi]), N * P)   # half of its rows per core (point 8)
        return np.ascontiguousarray(z.reshape(N, P, -1).transpose(0, 2, 1))   # channels first again

    def _eval_scale_shift(self, i):
        """Evaluation-mode BatchNorm after block i's convolution as out = z * scale + shift, with
        the convolution's bias folded into the shift. (O,) each."""
        conv, bn = self._blocks[i]
        scale = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
        return scale, bn.bias.data + (conv.bias.data - bn.running_mean) * scale

    def _bn_relu_pool(self, z, i):
        """BatchNorm, ReLU and 2x2 max pooling of block i's convolution output z: (N, C, H, W) -> (N, C, H/2, W/2).

        Training mode: z is the convolution without its bias (point 1); the
        running mean gets the bias added back, so it matches the layered model's.
        Evaluation mode: z comes from BatchNorm-scaled filters (point 6).
        """
        conv, bn = self._blocks[i]
        if not self.training:
            _, out = pool_2x2(z)
            out += self._eval_scale_shift(i)[1].astype(z.dtype)[:, None, None]
            return np.maximum(out, 0, out=out), None
        N, C, H, W = z.shape
        m = N * H * W
        mean = channel_sum(z) / m
        centred = np.subtract(z, mean[:, None, None], out=z)                   # z is ours: work in place
        c = centred.reshape(N, C, 1, -1)
        var = (c @ c.transpose(0, 1, 3, 2)).sum(axis=(0, 2, 3)) / m            # sums of squares as dot products: no temporary
        bn.update_running_stats(mean + conv.bias.data, var, m)
        inv_std = (1.0 / np.sqrt(var + bn.eps)).astype(z.dtype)
        gamma = bn.weight.data.astype(z.dtype, copy=False)
        sign = np.where(gamma < 0, -1, 1).astype(z.dtype)
        u = np.multiply(centred, (sign * inv_std)[:, None, None], out=centred)   # u = sign * x_hat (point 2)
        wmax, pooled_u = pool_2x2(u)
        out = pooled_u * np.abs(gamma)[:, None, None]
        out += bn.bias.data.astype(z.dtype, copy=False)[:, None, None]
        np.maximum(out, 0, out=out)                                            # ReLU after pooling (point 2)
        return out, (u, wmax, pooled_u, out, inv_std, sign)

    def _bn_relu_pool_backward(self, grad_out, i, cache):
        """grad_out: (N, C, H/2, W/2) -> dL/dz: (N, C, H, W) for block i; adds BatchNorm's parameter gradients."""
        bn = self._blocks[i][1]
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
        dz = pool_2x2_backward(g * a[:, None, None], u, wmax, pooled_u)        # every position written once (point 3)
        k1, k0 = (-a * sign * dgamma / m).astype(u.dtype), (-a * dbeta / m).astype(u.dtype)
        rest = np.multiply(u, k1[:, None, None], out=u)                         # u is not needed any more
        rest += k0[:, None, None]
        dz += rest
        # conv.bias.grad gets nothing: it would be sum(dz), zero but for rounding (point 1).
        return dz

    def backward(self, grad_logits):
        """grad_logits: (N, 10) -> None; adds d(loss)/d(parameter) into every parameter's ``.grad``."""
        if self._cache is None:
            raise RuntimeError("FusedLeNetBN.backward needs a forward pass in training mode first.")
        (cols1, cache1), (cols2, cache2), fc_inputs, pooled_shape = self._cache
        g = grad_logits
        for i in (2, 1, 0):
            fc = self._fcs[i]
            fc.weight.grad += g.T @ fc_inputs[i]
            fc.bias.grad += g.sum(axis=0)
            g = g @ fc.weight.data.astype(g.dtype, copy=False)
            if i > 0:
                g *= fc_inputs[i] > 0                                            # the ReLU before fc[i]
        (conv1, _), (conv2, _) = self._blocks
        dz2 = self._bn_relu_pool_backward(g.reshape(pooled_shape), 1, cache2)     # (N, 16, 10, 10)
        dx2 = self._input_grad_banded(dz2, conv2)
        # dW = sum_n G_n cols_n, G_n = dz2[n] as (16, 100), on the helper thread while this one goes on (point 8).
        dw2 = _HELPER.submit(lambda: (dz2.reshape(*dz2.shape[:2], -1) @ cols2).sum(axis=0))
        dz1 = self._bn_relu_pool_backward(dx2, 0, cache1)
        conv1.weight.grad += weight_grad(cols1, dz1.reshape(*dz1.shape[:2], -1)).reshape(conv1.weight.data.shape)
        dw2 = dw2.result()                                                        # waits for the helper, if need be
        conv2.weight.grad += dw2.reshape(dw2.shape[0], 5, 5, -1).transpose(0, 3, 1, 2)   # columns (di, dj, c) back to (c, di, dj)
        self._cache = None

    def _input_grad_banded(self, dz, conv):
        """conv2's dL/dx from banded products (point 5). dz: (N, O, 10, 10) -> (N, C, 14, 14).

        Chapter 13 multiplies each row of dz, all Wo = 10 columns, by one banded
        matrix with 14 columns per (a, c): 2.8 times the necessary multiply-adds,
        the zeros outside the band. Here each row is cut into two halves of 5
        columns, which reach 5 + 4 = 9 columns of dx: half the band matrix, 1.8
        times the work. The first halves of all rows make one product and the
        second halves another, one per core (point 8). dx is built channels
        last, so that every row addition moves runs of 9 * C = 54 numbers.
        """
        N, O, Ho, Wo = dz.shape
        C, k, half = conv.in_channels, 5, Wo // 2
        span = half + k - 1                                                      # columns of dx that one half reaches
        # t[(o, j), (a, w, c)] = weight[o, c, a, w - j] inside the band 0 <= w - j < k, zero outside.
        # Moving one step in j and one in w at once is a step of t.strides[1] + t.strides[3]
        # bytes, so the band itself is a strided view of t, filled in one copy.
        t = np.zeros((O, half, k, span, C), dtype=dz.dtype)
        s = t.strides
        band = as_strided(t, (O, half, k, k, C), (s[0], s[1] + s[3], s[2], s[3], s[4]))   # band[o, j, a, b, c] is t[o, j, a, j + b, c]
        band[...] = conv.weight.data.transpose(0, 2, 3, 1)[:, None]
        # One row per (half h, image n, row i), holding dz[n, :, i, h * half:(h + 1) * half].
        rows = np.ascontiguousarray(dz.reshape(N, O, Ho, 2, half).transpose(3, 0, 2, 1, 4)).reshape(2, N * Ho, O * half)
        t = t.reshape(O * half, -1)
        r = np.empty((2, N * Ho, t.shape[1]), dtype=dz.dtype)
        on_two_cores(lambda lo, hi: np.matmul(rows[lo:hi], t, out=r[lo:hi]), 2)    # one half per core (point 8)
        r = r.reshape(2, N, Ho, k, span, C)
        dx = np.zeros((N, Ho + k - 1, Wo + k - 1, C), dtype=dz.dtype)            # channels last
        for h in range(2):
            for a in range(k):
                dx[:, a:a + Ho, h * half:h * half + span] += r[h, :, :, a]       # kernel row a lands a rows further down
        return dx.transpose(0, 3, 1, 2)
