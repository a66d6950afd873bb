"""fmcnn.check names the likely cause of a common mistake: each one is planted here, as a student would
write it, and the check must name its cause (and no other), while never printing an expected array."""
import re

import numpy as np
import pytest

from fmcnn.exercises import EXERCISES, check
from fmcnn.exercises import reference as R
from fmcnn.models import lenet_bn


def _log_softmax(z):
    shifted = z - z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


# --- 02_softmax ------------------------------------------------------------------------------

def softmax_no_shift(z):
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def softmax_columns(z):
    e = np.exp(z - z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def cross_entropy(logits, labels, reduce=np.mean, scale=True, one_hot=True):
    """A right implementation with three switches for planting mistakes."""
    N = logits.shape[0]
    log_probs = _log_softmax(logits)
    dlogits = np.exp(log_probs)
    if one_hot:
        dlogits[np.arange(N), labels] -= 1
    return float(-reduce(log_probs[np.arange(N), labels])), dlogits / N if scale else dlogits


def cross_entropy_no_shift(logits, labels):
    N = logits.shape[0]
    probs = softmax_no_shift(logits)
    loss = -np.log(probs[np.arange(N), labels]).mean()
    probs[np.arange(N), labels] -= 1
    return float(loss), probs / N


# --- 03_linear_relu --------------------------------------------------------------------------

def linear_no_bias(x, w, b):
    return x @ w.T


def linear_backward_transposed_dw(dout, x, w):
    return dout @ w, x.T @ dout, dout.sum(axis=0)


def linear_backward_db_over_features(dout, x, w):
    return dout @ w, dout.T @ x, dout.sum(axis=1)


# --- 04_conv_forward and 05_conv_backward ----------------------------------------------------

def conv_forward_loops(x, w, b, stride, padding, flip=False, bias=True):
    N, C, H, W = x.shape
    O, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho, Wo = (H + 2 * padding - k) // stride + 1, (W + 2 * padding - k) // stride + 1
    out = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(O):
            f = w[o, :, ::-1, ::-1] if flip else w[o]
            for i in range(Ho):
                for j in range(Wo):
                    out[n, o, i, j] = np.sum(xp[n, :, i * stride:i * stride + k, j * stride:j * stride + k] * f)
                    out[n, o, i, j] += b[o] if bias else 0
    return out


def conv_backward_with(dout, x, w, b, stride, padding, overwrite=False, crop="right", dw_axes="oc", db_axes=(0, 2, 3)):
    """A right conv backward with switches for planting mistakes."""
    N, C, H, W = x.shape
    k = w.shape[2]
    p = padding
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros_like(xp), np.zeros_like(w)
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            g = dout[:, :, i, j]
            dw += np.einsum("no,nckl->ockl", g, xp[:, :, rows, cols])
            if overwrite:
                dxp[:, :, rows, cols] = np.einsum("no,ockl->nckl", g, w)
            else:
                dxp[:, :, rows, cols] += np.einsum("no,ockl->nckl", g, w)
    dx = {"right": dxp[:, :, p:p + H, p:p + W], "none": dxp, "minus": dxp[:, :, p:-p, p:-p]}[crop]
    if dw_axes == "co":
        dw = dw.transpose(1, 0, 2, 3)
    return dx, dw, dout.sum(axis=db_axes)


# --- 06_pooling ------------------------------------------------------------------------------

def maxpool_backward_with(dout, x, k, stride, choose="first", overwrite=False):
    """A right max pooling backward with switches: where the gradient goes, and = instead of +=."""
    N, C, H, W = x.shape
    dx = np.zeros_like(x)
    n, c = np.indices((N, C))
    for i in range(dout.shape[2]):
        for j in range(dout.shape[3]):
            rows, cols = slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)
            window = x[:, :, rows, cols]
            g = dout[:, :, i, j]
            if choose == "first":
                a, d = np.unravel_index(window.reshape(N, C, k * k).argmax(axis=2), (k, k))
                if overwrite:
                    dx[n, c, i * stride + a, j * stride + d] = g
                else:
                    dx[n, c, i * stride + a, j * stride + d] += g
            else:
                mask = window == window.max(axis=(2, 3), keepdims=True) if choose == "ties" else 1
                dx[:, :, rows, cols] += mask * g[:, :, None, None]
    return dx


# --- 07_batchnorm ----------------------------------------------------------------------------

def batchnorm_forward_with(x, gamma, beta, running_mean, running_var, momentum, eps, train,
                           ddof=0, batch_stats_always=False, axes=(0, 2, 3), running_ddof=1):
    m = x.size // x.shape[1]
    if train or batch_stats_always:
        mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, ddof=ddof, keepdims=True)
        stats_var = x.var(axis=(0, 2, 3), ddof=running_ddof)
        new_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=(0, 2, 3))
        new_var = (1 - momentum) * running_var + momentum * stats_var
        if not train:
            new_mean, new_var = running_mean.copy(), running_var.copy()
    else:
        mean, var = running_mean[:, None, None], running_var[:, None, None]
        new_mean, new_var = running_mean.copy(), running_var.copy()
    out = gamma[:, None, None] * (x - mean) / np.sqrt(var + eps) + beta[:, None, None]
    return out, new_mean, new_var


def batchnorm_backward_constant_stats(dout, x, gamma, running_mean, running_var, eps, train):
    mean, var = (x.mean(axis=(0, 2, 3)), x.var(axis=(0, 2, 3))) if train else (running_mean, running_var)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
    dx = dout * (gamma * inv_std)[:, None, None]
    return dx, (dout * x_hat).sum(axis=(0, 2, 3)), dout.sum(axis=(0, 2, 3))


def batchnorm_backward_dbeta_over_batch(*args):
    dx, dgamma, _ = R.batchnorm_backward(*args)
    return dx, dgamma, args[0].sum(axis=(0, 2))


# --- 09_optimizers ---------------------------------------------------------------------------

def sgd_without_weight_decay(w, dw, velocity, lr, momentum, weight_decay):
    v = momentum * velocity + dw
    return w - lr * v, v


def sgd_lr_in_velocity(w, dw, velocity, lr, momentum, weight_decay):
    v = momentum * velocity + lr * (dw + weight_decay * w)
    return w - v, v


def adam_with(w, dw, m, v, t, lr, beta1, beta2, eps, weight_decay, correct=True, keep="raw"):
    g = dw + weight_decay * w
    m, v = beta1 * m + (1 - beta1) * g, beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = (m / (1 - beta1 ** t), v / (1 - beta2 ** t)) if correct else (m, v)
    new_w = w - lr * m_hat / (np.sqrt(v_hat) + eps)
    return new_w, m_hat if keep == "m_hat" else m, v_hat if keep == "v_hat" else v


# --- 10_metrics ------------------------------------------------------------------------------

def confusion_transposed(y_true, y_pred, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_pred, y_true), 1)
    return counts


def confusion_fancy_indexing(y_true, y_pred, num_classes):
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    counts[y_true, y_pred] += 1
    return counts


# --- numerical gradients ----------------------------------------------------------------------

def central_differences(f, x, h=1e-6, one_sided=False, restore=True, span=2):
    """A student's numerical gradient, in x's dtype, with switches for planting mistakes."""
    x, grad = x.copy(), np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old if one_sided else old - h
        minus = f(x)
        if restore:
            x[i] = old
        grad[i] = (plus - minus) / (h if one_sided else span * h)
    return grad


def numerical_dlogits_float32(logits, labels):
    return central_differences(lambda z: cross_entropy(z, labels)[0], logits)


def linear_numerical_grads_float32(dout, x, w, b):
    loss = lambda x, w, b: float(np.sum((x @ w.T + b) * dout))            # noqa: E731
    return (central_differences(lambda v: loss(v, w, b), x), central_differences(lambda v: loss(x, v, b), w),
            central_differences(lambda v: loss(x, w, v), b))


def relu_numerical_grad_float32(dout, x):
    return central_differences(lambda v: float(np.sum(np.maximum(v, 0) * dout)), x)


def conv_numerical_grads_float32(dout, x, w, b, stride, padding):
    loss = lambda x, w, b: float(np.sum(R.conv_forward(x, w, b, stride, padding) * dout))    # noqa: E731
    return (central_differences(lambda v: loss(v, w, b), x), central_differences(lambda v: loss(x, v, b), w),
            central_differences(lambda v: loss(x, w, v), b))


def maxpool_numerical_grad_float32(dout, x, k, stride):
    return central_differences(lambda v: float(np.sum(R.maxpool_forward(v, k, stride) * dout)), x)


def batchnorm_numerical_grads_float32(dout, x, gamma, running_mean, running_var, eps, train):
    def loss(x, gamma, beta):
        out = R.batchnorm_forward(x, gamma, beta, running_mean, running_var, 0.1, eps, train)[0]
        return float(np.sum(out * dout))
    beta = np.zeros_like(gamma)
    return (central_differences(lambda v: loss(v, gamma, beta), x),
            central_differences(lambda v: loss(x, v, beta), gamma),
            central_differences(lambda v: loss(x, gamma, v), beta))


# --- im2col and col2im -----------------------------------------------------------------------

def im2col_loops(x, k, stride, layout="right"):
    """A student's im2col with loops, and switches for the layout of its rows and columns."""
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // stride + 1, (W - k) // stride + 1
    cols = np.zeros((N, C * k * k, Ho * Wo), x.dtype)
    for i in range(Ho):
        for j in range(Wo):
            window = x[:, :, i * stride:i * stride + k, j * stride:j * stride + k]      # (N, C, k, k)
            if layout == "kernel first":
                window = window.transpose(0, 2, 3, 1)
            column = j * Ho + i if layout == "by column" else i * Wo + j
            cols[:, :, column] = window.reshape(N, -1)
    return cols.transpose(0, 2, 1) if layout == "rows" else cols


def col2im_overwriting(cols, x_shape, k, stride):
    N, C, H, W = x_shape
    Ho, Wo = (H - k) // stride + 1, (W - k) // stride + 1
    x = np.zeros(x_shape, cols.dtype)
    for i in range(Ho):
        for j in range(Wo):
            x[:, :, i * stride:i * stride + k, j * stride:j * stride + k] = cols[:, :, i * Wo + j].reshape(N, C, k, k)
    return x


# --- LeNet -----------------------------------------------------------------------------------

def lenet_counts(in_channels, image_size, width, count_buffers=False, count_biases=True):
    c1, c2, h1, h2 = 6 * width, 16 * width, 120 * width, 84 * width
    side = ((image_size // 2) - 4) // 2
    conv = lambda c_in, c_out: c_out * c_in * 25 + (c_out if count_biases else 0)          # noqa: E731
    fc = lambda n_in, n_out: n_out * n_in + (n_out if count_biases else 0)                 # noqa: E731
    bn = lambda c: (4 if count_buffers else 2) * c                                          # noqa: E731
    return np.array([conv(in_channels, c1), bn(c1), conv(c1, c2), bn(c2), fc(c2 * side * side, h1), fc(h1, h2),
                     fc(h2, 10)])


def lenet_bn_from(params, training):
    model = lenet_bn(width=params["conv1.weight"].shape[0] // 6)
    model.load_state_dict(params)
    return model.train(training)


def lenet_forward_in_training_mode(x, params):
    return lenet_bn_from(params, training=True).forward(x)


def saliency_with(x, targets, params, loss=False, training=False, mean=False):
    model = lenet_bn_from(params, training)
    logits = model.forward(x)
    one_hot = np.eye(10, dtype=x.dtype)[targets]
    if not loss:
        return model.backward(one_hot)
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    dlogits = p / p.sum(axis=1, keepdims=True) - one_hot
    return model.backward(dlogits / len(x) if mean else dlogits)


def with_switches(fn, **switches):
    return lambda *args: fn(*args, **switches)


#: (exercise, planted function, the mistakes whose causes the check must name: all of them and no other).
PLANTED = [
    ("softmax", softmax_no_shift, {"overflow"}),
    ("softmax", softmax_columns, {"wrong axis"}),
    ("softmax_cross_entropy", with_switches(cross_entropy, reduce=np.sum), {"sum"}),
    ("softmax_cross_entropy", cross_entropy_no_shift, {"log of 0", "overflow"}),
    ("softmax_cross_entropy", with_switches(cross_entropy, scale=False), {"missing 1/N"}),
    ("softmax_cross_entropy", with_switches(cross_entropy, one_hot=False), {"no one-hot"}),
    ("linear_forward", linear_no_bias, {"no bias"}),
    ("linear_backward", linear_backward_transposed_dw, {"transposed"}),
    ("linear_backward", linear_backward_db_over_features, {"wrong axis"}),
    ("relu_backward", lambda dout, x: dout * (x >= 0), {"at zero"}),
    ("relu_backward", lambda dout, x: (x > 0).astype(dout.dtype), {"no chain rule"}),
    ("conv_forward_naive", with_switches(conv_forward_loops, flip=True), {"flipped"}),
    ("conv_forward_naive", with_switches(conv_forward_loops, bias=False), {"no bias"}),
    ("conv_forward", with_switches(conv_forward_loops, flip=True), {"flipped"}),
    ("conv_forward", with_switches(conv_forward_loops, bias=False), {"no bias"}),
    ("conv_backward", with_switches(conv_backward_with, overwrite=True), {"overwritten"}),
    ("conv_backward", with_switches(conv_backward_with, crop="none"), {"padding kept"}),
    ("conv_backward", with_switches(conv_backward_with, crop="minus"), {"empty crop"}),
    ("conv_backward", with_switches(conv_backward_with, dw_axes="co"), {"transposed"}),
    ("conv_backward", with_switches(conv_backward_with, db_axes=(2, 3)), {"wrong axis"}),
    ("maxpool_backward", with_switches(maxpool_backward_with, choose="ties"), {"all ties"}),
    ("maxpool_backward", with_switches(maxpool_backward_with, choose="window"), {"whole window"}),
    ("maxpool_backward", with_switches(maxpool_backward_with, overwrite=True), {"overwritten"}),
    ("batchnorm_forward", with_switches(batchnorm_forward_with, ddof=1), {"unbiased"}),
    ("batchnorm_forward", with_switches(batchnorm_forward_with, batch_stats_always=True), {"batch stats in eval"}),
    ("batchnorm_forward", with_switches(batchnorm_forward_with, axes=0), {"wrong axes"}),
    ("batchnorm_forward", with_switches(batchnorm_forward_with, running_ddof=0), {"biased running var"}),
    ("batchnorm_backward", batchnorm_backward_constant_stats, {"constant stats"}),
    ("batchnorm_backward", batchnorm_backward_dbeta_over_batch, {"wrong axes"}),
    ("sgd_momentum_step", sgd_without_weight_decay, {"no weight decay"}),
    ("sgd_momentum_step", sgd_lr_in_velocity, {"lr in velocity"}),
    ("adam_step", with_switches(adam_with, correct=False), {"no bias correction"}),
    ("adam_step", with_switches(adam_with, keep="m_hat"), {"corrected m"}),
    ("adam_step", with_switches(adam_with, keep="v_hat"), {"corrected v"}),
    ("confusion_matrix", confusion_transposed, {"transposed"}),
    ("confusion_matrix", confusion_fancy_indexing, {"pairs once"}),
    ("numerical_gradient", with_switches(central_differences, one_sided=True), {"one-sided"}),
    ("numerical_gradient", with_switches(central_differences, restore=False), {"not restored"}),
    ("numerical_gradient", with_switches(central_differences, span=1), {"half step"}),
    ("numerical_dlogits", numerical_dlogits_float32, {"float32"}),
    ("linear_numerical_grads", linear_numerical_grads_float32, {"float32"}),
    ("relu_numerical_grad", relu_numerical_grad_float32, {"float32"}),
    ("conv_numerical_grads", conv_numerical_grads_float32, {"float32"}),
    ("maxpool_numerical_grad", maxpool_numerical_grad_float32, {"float32"}),
    ("batchnorm_numerical_grads", batchnorm_numerical_grads_float32, {"float32"}),
    ("im2col", with_switches(im2col_loops, layout="rows"), {"windows as rows"}),
    ("im2col", with_switches(im2col_loops, layout="kernel first"), {"rows kernel first"}),
    ("im2col", with_switches(im2col_loops, layout="by column"), {"columns by column"}),
    ("col2im", col2im_overwriting, {"overwritten"}),
    ("lenet_parameter_counts", with_switches(lenet_counts, count_buffers=True), {"buffers"}),
    ("lenet_parameter_counts", with_switches(lenet_counts, count_biases=False), {"no biases"}),
    ("lenet_forward", lenet_forward_in_training_mode, {"training mode"}),
    ("score_saliency", with_switches(saliency_with, training=True), {"training mode"}),
    ("loss_saliency", with_switches(saliency_with, loss=True, training=True), {"training mode"}),
    ("loss_saliency", with_switches(saliency_with, loss=True, mean=True), {"mean loss"}),
]


def causes_named(exercise, text):
    return {m.name for m in EXERCISES[exercise].mistakes if f"likely cause: {m.cause}" in text}


def test_every_named_mistake_is_planted_in_a_test():
    planted = {(exercise, name) for exercise, _, names in PLANTED for name in names}
    assert planted == {(e.name, m.name) for e in EXERCISES.values() for m in e.mistakes}


@pytest.mark.parametrize("exercise, planted, names", PLANTED,
                         ids=[f"{e}-{'+'.join(sorted(n))}" for e, _, n in PLANTED])
def test_check_names_the_cause_of_a_planted_mistake(exercise, planted, names, capsys):
    result = check(exercise, planted)
    text = capsys.readouterr().out
    assert not result.passed
    assert causes_named(exercise, text) == names, text
    assert not re.search(r"\[\s*[-+.\d]", text)                    # never an array, expected or not


def test_a_wrong_output_without_a_known_signature_gets_no_cause(capsys):
    def conv_backward(dout, x, w, b, stride, padding):
        dx, dw, db = R.conv_backward(dout, x, w, b, stride, padding)
        dx[0, 0, 0, 0] += 1.0                                      # wrong at a pixel in one window only
        return dx, dw, db + 1.0

    result = check("conv_backward", conv_backward)
    assert result.n_passed == 0 and "likely cause" not in capsys.readouterr().out
