"""Common mistakes, recognized in a wrong output so that ``fmcnn.check`` can name their likely cause.

Each exercise lists its mistakes in the registry. When an output of a case is
wrong, the checker tries that output's mistakes in order and names the cause
of the first one whose signature the output has: for instance "equal to the
reference computed with a known mistake" (:func:`gives`), "wrong where
windows overlap" (:func:`wrong_where`) or "the right numbers, transposed"
(:func:`transposed`). A signature looks at the student's output, the expected
one and the case's inputs; the cause it names never shows an expected array.
"""
from dataclasses import dataclass
from itertools import combinations
from typing import Callable

import numpy as np

from . import reference as R
from .cases import copy_args
from .compare import beyond_tolerance, close


@dataclass(frozen=True)
class Mistake:
    """A common mistake in one output of an exercise.

    name: a short handle ("overwritten", "transposed", ...), for tests and tables.
    output: the output it shows in, e.g. "dx".
    cause: what the student reads, e.g. "wrong where windows overlap: ...".
    matches: ``(got, expected, args, precision) -> bool``, whether a wrong output has the signature.
    """

    name: str
    output: str
    cause: str
    matches: Callable


# --- signatures --------------------------------------------------------------------------------


def gives(wrong):
    """The output is what ``wrong(*args)`` computes: the reference with the mistake made on purpose."""
    return lambda got, expected, args, precision: close(got, wrong(*copy_args(args)), precision)


def scaled_by(factor):
    """The output is the expected one times ``factor(*args)`` (for example N for a forgotten 1/N)."""
    return lambda got, expected, args, precision: close(got, expected * factor(*args), precision)


def transposed(axes=None):
    """The output holds the right numbers with its axes permuted by ``axes`` (reversed if None)."""
    return lambda got, expected, args, precision: close(got, np.transpose(expected, axes), precision)


def not_finite(got, expected, args, precision):
    """inf or nan where the expected values are all finite (an overflow)."""
    return got.dtype.kind == "f" and not np.isfinite(got).all() and np.isfinite(expected).all()


def computed_in_float32(got, expected, args, precision):
    """A float32 result from float32 inputs where a float64 estimate was expected."""
    return got.dtype == np.float32 and any(isinstance(a, np.ndarray) and a.dtype == np.float32 for a in args)


def wrong_where(mask):
    """Wrong at most (at least half) of the entries where ``mask(*args)`` (broadcast to the output) is
    True, and right everywhere else: the pattern of a mistake, not of a slip at one entry."""
    def matches(got, expected, args, precision):
        if got.shape != expected.shape or got.dtype.kind not in "biuf":
            return False
        wrong = beyond_tolerance(got, expected, precision)[1]
        where = np.broadcast_to(mask(*args), wrong.shape)
        return bool(wrong.any() and not (wrong & ~where).any() and 2 * wrong.sum() >= where.sum())
    return matches


def sums_over_wrong_axes(source, right_axes):
    """The output is ``source(*args)`` summed over some axes other than ``right_axes``."""
    def matches(got, expected, args, precision):
        values = source(*args)
        return any(close(got, values.sum(axis=axes), precision)
                   for n in range(1, values.ndim + 1) for axes in combinations(range(values.ndim), n)
                   if axes != tuple(right_axes))
    return matches


def keeps_padding(padding):
    """The output still has a border of ``padding(*args)`` on both spatial axes, and is right inside it."""
    def matches(got, expected, args, precision):
        p = padding(*args)
        return p > 0 and got.ndim == 4 and close(got[:, :, p:got.shape[2] - p, p:got.shape[3] - p], expected, precision)
    return matches


def empty_where_not_padded(got, expected, args, precision):
    """An empty spatial axis where nothing is padded: ``a[p:-p]`` with p = 0 selects nothing."""
    return got.ndim == expected.ndim and got.size == 0 < expected.size


# --- helpers for the signatures ----------------------------------------------------------------


def overlap_mask(H, W, k, stride, padding=0):
    """(H, W) booleans: True where the pixel lies in two or more k x k windows of the padded input."""
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    count = np.zeros((H + 2 * padding, W + 2 * padding), dtype=int)
    for i in range(Ho):
        for j in range(Wo):
            count[i * stride:i * stride + k, j * stride:j * stride + k] += 1
    return count[padding:padding + H, padding:padding + W] > 1


def pool_gradient_to(dout, x, k, stride, chosen):
    """Max pooling's dx if each window's gradient went to the inputs ``chosen(window, its max)``
    (booleans, shape (N, C, k, k)), added up over windows."""
    dx = np.zeros_like(x)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            window = x[:, :, rows, cols]
            mask = chosen(window, window.max(axis=(2, 3), keepdims=True))
            dx[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
    return dx


def _batch_stats(x):
    return x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))


def _one_sided(f, x, h):
    """Forward differences (f(x + h e_i) - f(x)) / h."""
    x, grad = x.astype(np.float64), np.zeros(x.shape)
    fx = f(x)
    for i in np.ndindex(x.shape):
        moved = x.copy()
        moved[i] += h
        grad[i] = (f(moved) - fx) / h
    return grad


def _not_restored(f, x, h):
    """Central differences where each entry is left at x_i - h after its turn."""
    x, grad = x.astype(np.float64), np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        x[i] += h
        plus = f(x)
        x[i] -= 2 * h
        grad[i] = (plus - f(x)) / (2 * h)
    return grad


def float32_estimates(*outputs):
    """The mistake of estimating gradients in float32, for each of ``outputs``."""
    return tuple(Mistake("float32", output, "a float32 estimate: float32 keeps about 7 digits, and "
                         "f(x + h) - f(x - h) is a difference of nearly equal numbers, so most of them cancel. "
                         "Compute in float64 (convert the inputs first)", computed_in_float32) for output in outputs)


# --- the mistakes of each exercise -------------------------------------------------------------


SOFTMAX = (
    Mistake("overflow", "probs", "inf or nan: exp overflowed. Softmax does not change when the same number "
            "is subtracted from every logit of a row; which number makes the largest exponent 0?", not_finite),
    Mistake("wrong axis", "probs", "normalized over the wrong axis: each row (one example) must sum to 1",
            gives(lambda z: R.softmax(np.ascontiguousarray(z.T)).T)),
)

SOFTMAX_CROSS_ENTROPY = (
    Mistake("sum", "loss", "the loss is N times too large: it is the mean over the batch, not the sum",
            scaled_by(lambda logits, labels: logits.shape[0])),
    Mistake("log of 0", "loss", "the loss is inf or nan: the log of a probability that rounded to 0 (or an "
            "overflow). Compute the log-probabilities directly, with the log-sum-exp trick", not_finite),
    Mistake("missing 1/N", "dlogits", "dlogits is N times too large: the loss is the mean over N examples, "
            "so its gradient carries a factor 1/N", scaled_by(lambda logits, labels: logits.shape[0])),
    Mistake("no one-hot", "dlogits", "the -1 at each example's label is missing: the gradient is the "
            "probabilities minus the one-hot labels (over N)",
            gives(lambda logits, labels: R.softmax(logits) / logits.shape[0])),
    Mistake("overflow", "dlogits", "inf or nan: exp overflowed (see the softmax exercise)", not_finite),
)

NUMERICAL_GRADIENT = (
    Mistake("one-sided", "grad", "a one-sided difference (f(x + h) - f(x)) / h: its error shrinks like h, "
            "a central difference's like h^2", gives(_one_sided)),
    Mistake("not restored", "grad", "x was not restored after each entry's turn, so the later entries were "
            "measured at a point already moved", gives(_not_restored)),
    Mistake("half step", "grad", "twice too large: x - h and x + h are 2h apart", scaled_by(lambda f, x, h: 2)),
)


LINEAR_FORWARD = (
    Mistake("no bias", "out", "the bias is missing", gives(lambda x, w, b: x @ w.T)),
)

LINEAR_BACKWARD = (
    Mistake("transposed", "dw", "dw is transposed: a gradient has the shape of what it is the gradient of, "
            "here w's (M, D)", transposed()),
    Mistake("wrong axis", "db", "db summed over the wrong axis: the bias is added to every example (row), so "
            "its gradient sums dout over the batch axis", sums_over_wrong_axes(lambda dout, x, w: dout, (0,))),
)

RELU_BACKWARD = (
    Mistake("at zero", "dx", "wrong only where x is exactly 0: this course (like PyTorch) takes ReLU's "
            "derivative at 0 to be 0", wrong_where(lambda dout, x: x == 0)),
    Mistake("no chain rule", "dx", "this is ReLU's derivative alone: the chain rule multiplies it by dout",
            gives(lambda dout, x: (x > 0).astype(dout.dtype))),
)

CONV_FORWARD = (
    Mistake("flipped", "out", "the filters are flipped, as in a true convolution; a CNN's 'convolution' is a "
            "cross-correlation, which uses w as it is",
            gives(lambda x, w, b, s, p: R.conv_forward(x, np.ascontiguousarray(w[:, :, ::-1, ::-1]), b, s, p))),
    Mistake("no bias", "out", "the bias is missing", gives(lambda x, w, b, s, p: R.conv_forward(x, w, 0 * b, s, p))),
)


def _rows_kernel_first(x, k, stride):
    cols = R.im2col(x, k, stride)
    N, C = x.shape[:2]
    return cols.reshape(N, C, k, k, -1).transpose(0, 2, 3, 1, 4).reshape(cols.shape)


def _columns_by_column(x, k, stride):
    cols = R.im2col(x, k, stride)
    Ho, Wo = (x.shape[2] - k) // stride + 1, (x.shape[3] - k) // stride + 1
    return cols.reshape(*cols.shape[:2], Ho, Wo).transpose(0, 1, 3, 2).reshape(cols.shape)


IM2COL = (
    Mistake("windows as rows", "cols", "one row per window: here each window is a column, (N, C * k * k, "
            "Ho * Wo), so that w.reshape(O, -1) @ cols is the output", transposed((0, 2, 1))),
    Mistake("rows kernel first", "cols", "the rows are ordered (kernel row, kernel column, channel): they must "
            "follow w.reshape(O, -1), whose channel axis comes first", gives(_rows_kernel_first)),
    Mistake("columns by column", "cols", "the columns go down the output's columns first: output positions "
            "go row by row, (i, j) in row-major order", gives(_columns_by_column)),
)

COL2IM = (
    Mistake("overwritten", "x", "wrong where windows overlap: a pixel in several windows gets the sum of their "
            "columns' entries. Were they overwritten (=) instead of accumulated (+=)?",
            wrong_where(lambda cols, x_shape, k, s: overlap_mask(x_shape[2], x_shape[3], k, s))),
)


CONV_BACKWARD = (
    Mistake("padding kept", "dx", "dx still has the padding border: the padded zeros are not inputs, so dx "
            "must have x's shape", keeps_padding(lambda dout, x, w, b, s, p: p)),
    Mistake("empty crop", "dx", "dx is empty: with padding 0, a slice p:-p selects nothing (-0 is 0)",
            empty_where_not_padded),
    Mistake("overwritten", "dx", "wrong where windows overlap: an input in several windows gets the sum of "
            "what each window sends it. Were the contributions overwritten (=) instead of accumulated (+=)?",
            wrong_where(lambda dout, x, w, b, s, p: overlap_mask(*x.shape[2:], w.shape[2], s, p))),
    Mistake("transposed", "dw", "dw has the filter axis (O) and the channel axis (C) swapped: it must have "
            "w's shape (O, C, k, k)", transposed((1, 0, 2, 3))),
    Mistake("wrong axis", "db", "db summed over the wrong axes: each bias is added at every example and every "
            "position", sums_over_wrong_axes(lambda dout, x, w, b, s, p: dout, (0, 2, 3))),
)

MAXPOOL_BACKWARD = (
    Mistake("all ties", "dx", "the gradient went to every tied maximum of a window: it goes to the first "
            "one only (in row-major order, the one argmax finds)",
            gives(lambda dout, x, k, s: pool_gradient_to(dout, x, k, s, lambda win, top: win == top))),
    Mistake("whole window", "dx", "every input of a window got the window's gradient: only its maximum "
            "influences the output", gives(lambda dout, x, k, s: pool_gradient_to(
                dout, x, k, s, lambda win, top: np.ones(win.shape, bool)))),
    Mistake("overwritten", "dx", "wrong where an input is the maximum of several overlapping windows: it gets "
            "the sum of their gradients. Were they overwritten (=) instead of accumulated (+=)?",
            wrong_where(lambda dout, x, k, s: R.maxpool_backward(np.ones_like(dout), x, k, s) > 1)),
)


def _bn_eval(x, gamma, beta, mean, var, eps):
    """BatchNorm's output with the given statistics (evaluation mode leaves them as they are)."""
    return R.batchnorm_forward(x, gamma, beta, mean, var, 0.0, eps, False)[0]


def _bn_unbiased(x, gamma, beta, rm, rv, momentum, eps, train):
    mean, var = _batch_stats(x)
    m = x.size // x.shape[1]
    return _bn_eval(x, gamma, beta, mean, var * m / (m - 1), eps) if train else _bn_eval(x, gamma, beta, rm, rv, eps)


def _bn_per_position(x, gamma, beta, rm, rv, momentum, eps, train):
    x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
    return gamma[:, None, None] * x_hat + beta[:, None, None]


def _bn_biased_running_var(x, gamma, beta, rm, rv, momentum, eps, train):
    return (1 - momentum) * rv + momentum * x.var(axis=(0, 2, 3)) if train else rv


BATCHNORM_FORWARD = (
    Mistake("unbiased", "out", "out is normalized with the unbiased variance (divided by m - 1): the "
            "normalization uses the batch's biased variance (divided by m)", gives(_bn_unbiased)),
    Mistake("batch stats in eval", "out", "in evaluation mode out must use running_mean and running_var, not "
            "the batch's statistics", gives(lambda x, *rest: R.batchnorm_forward(x, *rest[:-1], True)[0])),
    Mistake("wrong axes", "out", "statistics over the wrong axes: a channel is normalized over the batch and "
            "both spatial axes (N, H and W)", gives(_bn_per_position)),
    Mistake("biased running var", "running_var", "running_var was updated with the biased variance: like "
            "PyTorch, it tracks the unbiased one, m / (m - 1) times the batch variance", gives(_bn_biased_running_var)),
)

BATCHNORM_BACKWARD = (
    Mistake("constant stats", "dx", "dx treats the batch mean and variance as constants: in training mode "
            "they depend on x too, and the chain rule goes through them",
            gives(lambda dout, x, gamma, rm, rv, eps, train:
                  R.batchnorm_backward(dout, x, gamma, *_batch_stats(x), eps, False)[0])),
    Mistake("wrong axes", "dbeta", "dbeta summed over the wrong axes: beta is added at every example and every "
            "position", sums_over_wrong_axes(lambda dout, *rest: dout, (0, 2, 3))),
)


def _counts_with(in_channels, image_size, width, buffers=False, biases=True):
    """LeNet's parameter counts, also counting BatchNorm's buffers, or without the biases of the
    convolutions and fully connected layers (BatchNorm's beta is called "bias" too, and stays)."""
    def counted(layer, name):
        return (buffers or not name.startswith("running")) and (biases or name != "bias" or layer.startswith("bn"))
    return np.array([sum(int(np.prod(shape)) for name, shape in arrays.items() if counted(layer, name))
                     for layer, arrays in R.lenet_shapes(in_channels, image_size, width).items()])


LENET_PARAMETER_COUNTS = (
    Mistake("buffers", "counts", "BatchNorm's running mean and variance were counted: they are buffers, "
            "statistics of the data, not trained parameters", gives(lambda *a: _counts_with(*a, buffers=True))),
    Mistake("no biases", "counts", "the biases are missing: every convolution and fully connected layer has "
            "one per output (filter or unit)", gives(lambda *a: _counts_with(*a, biases=False))),
)

TRAINING_MODE = ("BatchNorm normalized with this batch's statistics: in evaluation mode (model.eval()) it uses "
                 "its running statistics, so an image's result does not depend on the rest of the batch")

LENET_FORWARD = (
    Mistake("training mode", "logits", TRAINING_MODE,
            gives(lambda x, params: R.lenet_from_params(params, training=True).forward(x))),
)

SGD_MOMENTUM_STEP = (
    Mistake("no weight decay", "w", "weight decay is missing: it adds weight_decay * w to the gradient",
            gives(lambda w, dw, v, lr, mom, wd: R.sgd_momentum_step(w, dw, v, lr, mom, 0.0)[0])),
    Mistake("lr in velocity", "velocity", "the velocity includes the learning rate: it accumulates gradients "
            "only, and lr scales the step", gives(lambda w, dw, v, lr, mom, wd: mom * v + lr * (dw + wd * w))),
)


def _adam_without_correction(w, dw, m, v, t, lr, beta1, beta2, eps, wd):
    _, new_m, new_v = R.adam_step(w, dw, m, v, t, lr, beta1, beta2, eps, wd)
    return w - lr * new_m / (np.sqrt(new_v) + eps)


ADAM_STEP = (
    Mistake("no bias correction", "w", "no bias correction: m and v start at 0, so early on they are too small "
            "by the factors (1 - beta1^t) and (1 - beta2^t)", gives(_adam_without_correction)),
    Mistake("corrected m", "m", "this is the bias-corrected m: the state to keep is the uncorrected one",
            gives(lambda w, dw, m, v, t, lr, b1, *rest: R.adam_step(w, dw, m, v, t, lr, b1, *rest)[1] / (1 - b1 ** t))),
    Mistake("corrected v", "v", "this is the bias-corrected v: the state to keep is the uncorrected one",
            gives(lambda w, dw, m, v, t, lr, b1, b2, *rest:
                  R.adam_step(w, dw, m, v, t, lr, b1, b2, *rest)[2] / (1 - b2 ** t))),
)


def _count_pairs_once(y_true, y_pred, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    counts[y_true, y_pred] += 1
    return counts


CONFUSION_MATRIX = (
    Mistake("transposed", "counts", "rows and columns are swapped: rows are the true classes, columns the "
            "predictions", transposed()),
    Mistake("pairs once", "counts", "a (true, predicted) pair that occurs several times was counted once: "
            "`counts[y_true, y_pred] += 1` adds only once at a repeated position", gives(_count_pairs_once)),
)

SCORE_SALIENCY = (
    Mistake("training mode", "saliency", TRAINING_MODE,
            gives(lambda x, t, params: R.input_gradient(x, params, R.score_dlogits(t), training=True))),
)

LOSS_SALIENCY = (
    Mistake("mean loss", "saliency", "N times too small: this is the gradient of the batch's mean loss; each "
            "image's map is the gradient of its own loss", scaled_by(lambda x, t, params: 1 / len(x))),
    Mistake("training mode", "saliency", TRAINING_MODE,
            gives(lambda x, t, params: R.input_gradient(x, params, R.loss_dlogits(t), training=True))),
)
