"""LeNet-BN as one fused forward and backward pass, for speed (the appendix,
book/14_the_fast_package, "Crossing the layer boundaries").

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
   of 10, and multiplies the windows of many images in one GEMM.
5. conv2's input gradient is a product with a banded matrix (the appendix),
   cut into two halves that waste less work on the zeros outside the band.
6. In evaluation mode BatchNorm is a fixed per-channel affine map: the scale
   goes into the filters and the shift, a constant per channel, is added
   after pooling (max(z + s) = max(z) + s).
7. Evaluation runs through a large batch in slices that fit in the caches.
8. Two cores, meeting at BatchNorm. Only BatchNorm's batch statistics mix
   images; every other computation runs image by image. So each pass is cut
   into stages at BatchNorm's sums, and in each stage the first half of the
   batch runs on a helper thread while this thread runs the second half
   (:func:`fmcnn.fast.threads.on_two_cores`); between stages this thread adds the two halves'
   per-image sums. NumPy releases Python's global interpreter lock inside
   matrix products and array loops, so the halves run on two cores. Every
   image is computed as in one call and the sums are added in the same order,
   so the numbers do not change (tests/fast/test_fused.py checks to the last bit).

Every step is a formula of the chapters in another order; only the packaging
differs. Results agree with the layered model up to float32 rounding
(tests/fast/test_fused.py). The layered model stays the reference: read it first.
"""
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

from ..nn.module import Module, check_input
from .buffers import reuse_or_empty
from .sums import image_channel_sums, image_sums_of_squares
from .threads import on_two_cores, one_call
from .unfold import im2col_channels_last, im2col_into

LAYOUT = ("conv1", "bn1", "relu1", "pool1", "conv2", "bn2", "relu2", "pool2", "flatten1",
          "fc1", "relu3", "fc2", "relu4", "fc3")


EVAL_CHUNK = 64


def weight_grad_terms(cols, g, out=None):
    """The per-image terms cols_n G_n^T of a convolution's weight gradient (the transpose of
    ``Conv2D.backward``'s G_n X_n^T, which BLAS runs faster in this order), before their sum: (N, C * k * k, O).

    ``out``: an array to write them into (each half of the batch writes its own images' terms).
    """
    return np.matmul(cols, g.transpose(0, 2, 1), out=out)


def pool_2x2(y, out=(None, None)):
    """2x2 max pooling in two steps, across columns then across rows: y (N, C, H, W) -> (wmax (N, C, H, W/2), out (N, C, H/2, W/2)).

    The second step compares whole rows, which lie contiguous in memory, and
    the backward pass retraces both steps (:func:`pool_2x2_backward`). ``out``:
    arrays to write wmax and the result into (None: new ones).
    """
    wmax = np.maximum(y[..., 0::2], y[..., 1::2], out=out[0])
    return wmax, np.maximum(wmax[:, :, 0::2], wmax[:, :, 1::2], out=out[1])


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


@dataclass(frozen=True)
class Geometry:
    """The sizes a LeNet-BN model implies: images of in_channels x size x size; a padded
    input of side ``padded``; conv1 maps of side ``conv1`` (pool1: ``conv1 // 2``); conv2 maps of
    side ``conv2`` (pool2: ``conv2 // 2``); k x k kernels; c1 and c2 channels."""

    in_channels: int
    size: int
    padded: int
    conv1: int
    conv2: int
    k: int
    c1: int
    c2: int

    @classmethod
    def of(cls, model):
        """Read the geometry off a lenet_bn model: fc1 sees c2 x s x s numbers, so conv2's maps have
        side 2 s, its input (pool1) 2 s + k - 1, conv1's maps twice that, and the images
        conv1 + k - 1 - 2 * padding."""
        conv1, conv2, fc1 = model["conv1"], model["conv2"], model["fc1"]
        c2, k = conv2.out_channels, conv2.kernel_size
        side = int(round((fc1.in_features / c2) ** 0.5))
        if c2 * side * side != fc1.in_features:
            raise ValueError(f"FusedLeNetBN: fc1 takes {fc1.in_features} inputs, not {c2} square maps.")
        conv2_side = 2 * side
        conv1_side = 2 * (conv2_side + k - 1)
        padded = conv1_side + k - 1
        return cls(conv1.in_channels, padded - 2 * conv1.padding, padded, conv1_side, conv2_side, k,
                   conv1.out_channels, c2)


@dataclass
class Block:
    """What a training-mode forward pass keeps of a block (convolution, BatchNorm, ReLU, pooling)
    for the backward pass. Maps are (N, C, H, W); per-channel values are (C,).

    u: sign(gamma) * x_hat (the convolution's output, centred in place, then scaled); wmax and
    pooled_u: the two steps of pooling u (:func:`pool_2x2`); out: the block's output,
    ReLU(|gamma| * pooled_u + beta); scale = sign * inv_std, inv_std, sign, gamma, beta.
    """

    u: np.ndarray
    scale: np.ndarray
    inv_std: np.ndarray
    sign: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    out: np.ndarray
    wmax: np.ndarray
    pooled_u: np.ndarray


class FusedLeNetBN(Module):
    """The forward and backward pass of a :func:`~fmcnn.models.lenet_bn` model, fused across layers.

    Args:
        model: a LeNet-BN ``Sequential`` (any ``width``). Its parameters, buffers
            and ``training`` flag are used, not copied: ``FusedLeNetBN(model)``
            and ``model`` are two ways of running one network.

    ``forward(x)``: x (N, 1, 28, 28) -> logits (N, 10). ``backward(grad_logits)``
    adds every parameter's gradient into its ``.grad`` and returns None (the
    images' gradient is never needed in training). As a :class:`~fmcnn.nn.Module`
    it lists the model's parameters and buffers and shares its training flag.
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
        self.geometry = Geometry.of(model)
        self._blocks = [(conv1, model["bn1"]), (conv2, model["bn2"])]
        self._fcs = [model["fc1"], model["fc2"], model["fc3"]]
        self._cols = [None, None]           # im2col matrices, reused from step to step (the appendix)
        self._padded = None
        self._cache = None

    # The model holds the state; Module's other methods (parameters, zero_grad, eval,
    # state_dict, ...) work through these.
    def named_parameters(self, prefix=""):
        return self.model.named_parameters(prefix)

    def named_buffers(self, prefix=""):
        return self.model.named_buffers(prefix)

    def to(self, dtype):
        self.model.to(dtype)
        return self

    @property
    def training(self):
        return self.model.training

    def train(self, mode=True):
        self.model.train(mode)
        return self

    def forward(self, x):
        """x: (N, 1, 28, 28) -> logits (N, 10)."""
        check_input(x, 4, "FusedLeNetBN")
        geo = self.geometry
        image = (geo.in_channels, geo.size, geo.size)
        if x.shape[1:] != image:
            raise ValueError(f"FusedLeNetBN expects images of shape (N, {', '.join(map(str, image))}), got {x.shape}.")
        N, dtype = x.shape[0], x.dtype
        if not self.training and N > EVAL_CHUNK:
            # Images are independent in evaluation mode. In slices of EVAL_CHUNK, the im2col
            # matrices (7 MB) stay in the processor's caches; at batch 1000 (140 MB) every
            # product would stream them from main memory (point 7).
            return np.concatenate([self.forward(x[i:i + EVAL_CHUNK]) for i in range(0, N, EVAL_CHUNK)])
        padded = self._padded
        if padded is None or padded.shape[0] != N or padded.dtype != dtype:
            self._padded = padded = np.zeros((N, geo.in_channels, geo.padded, geo.padded), dtype=dtype)   # the zero border is never written
        p = (geo.padded - geo.size) // 2
        padded[:, :, p:p + geo.size, p:p + geo.size] = x
        k, C1, C2, H1, H2 = geo.k, geo.c1, geo.c2, geo.conv1, geo.conv2
        cols1 = self._cols[0] = reuse_or_empty(self._cols[0], (N, geo.in_channels * k * k, H1 * H1), dtype)
        cols2 = self._cols[1] = reuse_or_empty(self._cols[1], (N, H2 * H2, k * k * C1), dtype)
        scales = shifts = (None, None)
        if not self.training:           # BatchNorm as z * scale + shift per channel (point 6), derived once per call
            scales, shifts = zip(*(self._eval_scale_shift(i) for i in (0, 1)))
        w1, w2 = self._filters(0, dtype, scales[0]), self._filters(1, dtype, scales[1])
        z1, a1, z2 = np.empty((N, C1, H1, H1), dtype), np.empty((N, C1, H1 // 2, H1 // 2), dtype), np.empty((N, C2, H2, H2), dtype)

        def conv1_images(lo, hi):
            im2col_into(padded[lo:hi], k, cols1[lo:hi])                                  # (n, 25, 28*28)
            np.matmul(w1, cols1[lo:hi], out=z1[lo:hi].reshape(hi - lo, C1, -1))         # a GEMM per image

        def conv2_images(lo, hi):
            im2col_channels_last(a1[lo:hi], k, out=cols2[lo:hi])                        # (n, 10*10, 25*C1) (point 4)
            z = cols2[lo:hi].reshape(-1, cols2.shape[2]) @ w2.T                         # one GEMM: (n*100, 25*C1) @ (25*C1, C2)
            z2[lo:hi] = z.reshape(hi - lo, H2, H2, C2).transpose(0, 3, 1, 2)            # channels first again

        if not self.training:
            def images(lo, hi):                                                          # no image depends on another
                conv1_images(lo, hi)
                self._eval_pool(z1[lo:hi], shifts[0], out=a1[lo:hi])
                conv2_images(lo, hi)
            on_two_cores(images, N)
            return self._fc_forward(self._eval_pool(z2, shifts[1]))

        # Training. BatchNorm's batch statistics are where the images meet (point 8): each half of
        # the batch computes its images' sums, and this thread adds them up between the stages.
        sums1 = np.empty((N, C1), dtype)

        def conv1_and_sums(lo, hi):
            conv1_images(lo, hi)
            sums1[lo:hi] = image_channel_sums(z1[lo:hi])

        on_two_cores(conv1_and_sums, N)
        block1 = self._normalize(0, z1, sums1, on_two_cores, out=a1)

        def pool1_and_conv2(lo, hi):
            self._pool_block(block1, lo, hi)
            conv2_images(lo, hi)

        on_two_cores(pool1_and_conv2, N)
        # Block 2 has 16 x 10 x 10 values per image: too little to be worth a hand-off.
        block2 = self._normalize(1, z2, image_channel_sums(z2), one_call, out=np.empty((N, C2, H2 // 2, H2 // 2), dtype))
        self._pool_block(block2, 0, N)
        logits, fc_inputs = self._fc_forward(block2.out, keep_inputs=True)
        self._cache = (cols1, block1, cols2, block2, fc_inputs)
        return logits

    def _filters(self, i, dtype, scale=None):
        """Block i's filters as an (O, C*k*k) matrix whose columns follow its im2col rows: (c, di, dj)
        for conv1 (chapter 4's order), (di, dj, c) for conv2 (channels last). In evaluation mode each
        filter is multiplied by BatchNorm's ``scale`` (point 6)."""
        w = self._blocks[i][0].weight.data
        w = (w if i == 0 else w.transpose(0, 2, 3, 1)).reshape(w.shape[0], -1)
        if scale is not None:
            w = w * scale[:, None]
        return w.astype(dtype, copy=False)

    def _eval_scale_shift(self, i):
        """Evaluation-mode BatchNorm after block i's convolution as out = z * scale + shift, with
        the convolution's bias folded into the shift. (O,) each."""
        conv, bn = self._blocks[i]
        scale = bn.weight.data / np.sqrt(bn.running_var + bn.eps)
        return scale, bn.bias.data + (conv.bias.data - bn.running_mean) * scale

    @staticmethod
    def _eval_pool(z, shift, out=None):
        """Evaluation mode: pooling, BatchNorm's ``shift`` (C,) and ReLU of a block whose z comes from
        BatchNorm-scaled filters (point 6): (n, C, H, W) -> (n, C, H/2, W/2)."""
        out = pool_2x2(z, out=(None, out))[1]
        out += shift.astype(z.dtype)[:, None, None]
        return np.maximum(out, 0, out=out)

    def _fc_forward(self, a2, keep_inputs=False):
        """fc1, ReLU, fc2, ReLU, fc3 on the flattened block-2 output: (N, C2, 5, 5) -> logits (N, 10)
        (and, with ``keep_inputs``, the three layers' inputs)."""
        h, inputs = a2.reshape(len(a2), -1), []
        for i, fc in enumerate(self._fcs):
            inputs.append(h)
            h = h @ fc.weight.data.T.astype(h.dtype, copy=False) + fc.bias.data.astype(h.dtype, copy=False)
            if i < 2:
                np.maximum(h, 0, out=h)
        return (h, inputs) if keep_inputs else h

    def _normalize(self, i, z, sums, run, out):
        """Training-mode BatchNorm statistics of block i's convolution output z: (N, C, H, W), given
        its images' channel sums (N, C); centres z in place.

        z is the convolution without its bias (point 1); the running mean gets the bias added
        back, so it matches the layered model's. ``run(compute, N)`` runs the per-image pass
        (:func:`on_two_cores`, or :func:`one_call`). Returns the block's state: what pooling
        (:meth:`_pool_block`, which writes the block's output into ``out``) and the backward
        pass need.
        """
        conv, bn = self._blocks[i]
        N, C, H, W = z.shape
        m = N * H * W
        mean = sums.sum(axis=0) / m
        squares = np.empty_like(sums)

        def centre(lo, hi):
            c = np.subtract(z[lo:hi], mean[:, None, None], out=z[lo:hi])               # z is ours: work in place
            squares[lo:hi] = image_sums_of_squares(c)

        run(centre, N)
        var = squares.sum(axis=0) / m
        bn.update_running_stats(mean + conv.bias.data, var, m)
        inv_std = (1.0 / np.sqrt(var + bn.eps)).astype(z.dtype)
        gamma = bn.weight.data.astype(z.dtype, copy=False)
        sign = np.where(gamma < 0, -1, 1).astype(z.dtype)
        return Block(u=z, scale=sign * inv_std, inv_std=inv_std, sign=sign, gamma=gamma,
                     beta=bn.bias.data.astype(z.dtype, copy=False), out=out,
                     wmax=np.empty((N, C, H, W // 2), z.dtype), pooled_u=np.empty((N, C, H // 2, W // 2), z.dtype))

    @staticmethod
    def _pool_block(block, lo, hi):
        """Images lo:hi of a block in training mode: u = sign(gamma) * x_hat, 2x2 max pooling of u,
        then |gamma| * pooled + beta and ReLU on a quarter of the values (point 2), into block.out."""
        u = np.multiply(block.u[lo:hi], block.scale[:, None, None], out=block.u[lo:hi])
        pool_2x2(u, out=(block.wmax[lo:hi], block.pooled_u[lo:hi]))
        a = np.multiply(block.pooled_u[lo:hi], np.abs(block.gamma)[:, None, None], out=block.out[lo:hi])
        a += block.beta[:, None, None]
        np.maximum(a, 0, out=a)

    def _block_grads(self, i, block, sums):
        """BatchNorm's parameter gradients for block i, from the images' sums (N, C) of g and of
        g * pooled_u, where g is the gradient at the block's output times ReLU's mask; returns the
        per-channel a, k1 and k0 of dz = (a * g routed to the window maxima) + u * k1 + k0 (chapter 7)."""
        bn = self._blocks[i][1]
        u, sign, dtype = block.u, block.sign, block.u.dtype
        # dL/dy is g at each window's maximum and 0 elsewhere, so BatchNorm's sums over
        # all of dy reduce to sums over the pooled map: dbeta = sum(dy) = sum(g) and
        # dgamma = sum(dy * x_hat) = sum(g * x_hat at the maxima) = sign * sum(g * pooled_u).
        dbeta, dgamma = sums[0].sum(axis=0), sign * sums[1].sum(axis=0)
        bn.weight.grad += dgamma
        bn.bias.grad += dbeta
        m = u.shape[0] * u.shape[2] * u.shape[3]
        a = block.gamma * block.inv_std
        return a, (-a * sign * dgamma / m).astype(dtype), (-a * dbeta / m).astype(dtype)

    @staticmethod
    def _block_backward_images(block, g, coefficients, lo, hi):
        """dL/dz of images lo:hi of a block: (a * g, routed to each window's maximum, every
        position written once, point 3) + u * k1 + k0. Overwrites u, which is not needed any more."""
        a, k1, k0 = coefficients
        u = block.u[lo:hi]
        dz = pool_2x2_backward(g[lo:hi] * a[:, None, None], u, block.wmax[lo:hi], block.pooled_u[lo:hi])
        rest = np.multiply(u, k1[:, None, None], out=u)
        rest += k0[:, None, None]
        dz += rest
        return dz

    def backward(self, grad_logits):
        """grad_logits: (N, 10) -> None; adds d(loss)/d(parameter) into every parameter's ``.grad``."""
        if self._cache is None:
            raise RuntimeError("FusedLeNetBN.backward needs a forward pass in training mode first.")
        cols1, block1, cols2, block2, fc_inputs = self._cache
        g = grad_logits
        for i in (2, 1, 0):
            fc = self._fcs[i]
            fc.weight.grad += g.T @ fc_inputs[i]
            fc.bias.grad += g.sum(axis=0)
            g = g @ fc.weight.data.astype(g.dtype, copy=False)
            if i > 0:
                g *= fc_inputs[i] > 0                                            # the ReLU before fc[i]
        (conv1, _), (conv2, _) = self._blocks
        N, dtype, geo = g.shape[0], g.dtype, self.geometry
        C1, C2, k = geo.c1, geo.c2, geo.k
        g2 = g.reshape(block2.out.shape) * (block2.out > 0)                       # ReLU's backward pass, on the pooled map
        k2 = self._block_grads(1, block2, (image_channel_sums(g2), image_channel_sums(g2 * block2.pooled_u)))
        band = band_matrix(conv2.weight.data.astype(dtype, copy=False), half=geo.conv2 // 2)
        dw2_parts = np.empty((N, C2, cols2.shape[2]), dtype)
        g1, sums1 = np.empty(block1.out.shape, dtype), np.empty((2, N, C1), dtype)

        def conv2_back(lo, hi):
            # Block 2 and conv2 backwards for images lo:hi, then what block 1 needs of them.
            dz2 = self._block_backward_images(block2, g2, k2, lo, hi)
            G = dz2.reshape(hi - lo, C2, -1)                                          # (n, C2, 10*10)
            np.matmul(G, cols2[lo:hi], out=dw2_parts[lo:hi])                          # dW = sum_n G_n cols_n
            dx = input_grad_banded(dz2, band, C1, k)                                  # (n, C1, 14, 14) (point 5)
            np.multiply(dx, block1.out[lo:hi] > 0, out=g1[lo:hi])                     # ReLU's backward pass of block 1
            sums1[0, lo:hi] = image_channel_sums(g1[lo:hi])
            sums1[1, lo:hi] = image_channel_sums(g1[lo:hi] * block1.pooled_u[lo:hi])

        on_two_cores(conv2_back, N)
        dw2 = dw2_parts.sum(axis=0)                                                   # columns (di, dj, c) back to (c, di, dj)
        conv2.weight.grad += dw2.reshape(C2, k, k, C1).transpose(0, 3, 1, 2)
        k1 = self._block_grads(0, block1, sums1)
        dw1_parts = np.empty((N, cols1.shape[1], C1), dtype)

        def conv1_back(lo, hi):
            dz1 = self._block_backward_images(block1, g1, k1, lo, hi)
            # conv1's weight gradient, image by image, summed below.
            weight_grad_terms(cols1[lo:hi], dz1.reshape(hi - lo, C1, -1), out=dw1_parts[lo:hi])

        on_two_cores(conv1_back, N)
        conv1.weight.grad += dw1_parts.sum(axis=0).T.reshape(conv1.weight.data.shape)
        # conv biases get nothing: their gradient would be sum(dz), zero but for rounding (point 1).
        self._cache = None


def band_matrix(weight, half):
    """conv2's filters (O, C, k, k) as the banded matrix of its input gradient (point 5): (O * half, k * (half + k - 1) * C).

    ``half``: how many output columns one banded product covers (Wo / 2).
    t[(o, j), (a, w, c)] = weight[o, c, a, w - j] inside the band 0 <= w - j < k, zero
    outside. Moving one step in j and one in w at once is a step of t.strides[1] +
    t.strides[3] bytes, so the band itself is a strided view of t, filled in one copy.
    """
    O, C, k, _ = weight.shape
    t = np.zeros((O, half, k, half + k - 1, C), dtype=weight.dtype)
    s = t.strides
    band = as_strided(t, (O, half, k, k, C), (s[0], s[1] + s[3], s[2], s[3], s[4]))   # band[o, j, a, b, c] is t[o, j, a, j + b, c]
    band[...] = weight.transpose(0, 2, 3, 1)[:, None]
    return t.reshape(O * half, -1)


def input_grad_banded(dz, band, C, k):
    """conv2's dL/dx from banded products (point 5). dz: (n, O, 10, 10) -> (n, C, 14, 14); k x k kernels.

    The appendix multiplies each row of dz, all Wo = 10 columns, by one banded
    matrix with 14 columns per (a, c): 2.8 times the necessary multiply-adds,
    the zeros outside the band. Here each row is cut into two halves of 5
    columns, which reach 5 + 4 = 9 columns of dx: half the band matrix
    (:func:`band_matrix`), 1.8 times the work. dx is built channels last, so
    that every row addition moves runs of 9 * C = 54 numbers.
    """
    n, O, Ho, Wo = dz.shape
    half = Wo // 2
    span = half + k - 1                                                          # columns of dx that one half reaches
    # One row per (half h, image, row i), holding dz[image, :, i, h * half:(h + 1) * half].
    rows = np.ascontiguousarray(dz.reshape(n, O, Ho, 2, half).transpose(3, 0, 2, 1, 4)).reshape(-1, O * half)
    r = (rows @ band).reshape(2, n, Ho, k, span, C)
    dx = np.zeros((n, Ho + k - 1, Wo + k - 1, C), dtype=dz.dtype)                # channels last
    for h in range(2):
        for a in range(k):
            dx[:, a:a + Ho, h * half:h * half + span] += r[h, :, :, a]           # kernel row a lands a rows further down
    return dx.transpose(0, 3, 1, 2)
