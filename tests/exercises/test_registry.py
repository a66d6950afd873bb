"""The exercise table: enough exercises, points, visible/hidden cases of the same kinds, and
references that agree with independent oracles."""
import struct

import numpy as np
import pytest

from .helpers import EXERCISES as EXERCISES_DIR, SOLUTIONS
from fmcnn.exercises import EXERCISES, NOTEBOOKS, TOTAL_POINTS, get_exercise
from fmcnn.exercises.checker import run_cases


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def kind(label):
    return label.split(":")[0]


def test_at_least_twelve_graded_functions_worth_fifty_points():
    assert len(EXERCISES) >= 12
    assert TOTAL_POINTS == 50 and all(e.points > 0 for e in EXERCISES.values())
    assert list(NOTEBOOKS) == ["01_data", "02_softmax", "03_linear_relu", "04_conv_forward", "05_conv_backward",
                               "06_pooling", "07_batchnorm", "09_optimizers", "10_metrics"]
    for stem in NOTEBOOKS:
        assert (SOLUTIONS / f"{stem}.ipynb").exists() and (EXERCISES_DIR / f"{stem}.ipynb").exists()


def test_unknown_name_lists_the_exercises():
    with pytest.raises(KeyError, match="conv_forward"):
        get_exercise("conv_fwd")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_hidden_cases_are_the_same_kinds_with_other_inputs(name):
    ex = EXERCISES[name]
    visible, hidden = ex.cases(), ex.cases(hidden=True)
    assert len(visible) == len(hidden) >= 3
    assert [kind(c.label) for c in visible] == [kind(c.label) for c in hidden]
    for v, h in zip(visible, hidden):
        assert not all(same(a, b) for a, b in zip(v.args, h.args)), v.label
    again = ex.cases(hidden=True)
    assert all(same(a, b) for c1, c2 in zip(hidden, again) for a, b in zip(c1.args, c2.args))


# --- independent oracles: plain loops and textbook formulas, written here without fmcnn, computed in
# float64 and returned in the inputs' dtype, so a wrong reference (the grading key) fails below.

def _f64(*arrays):
    return [np.asarray(a, dtype=np.float64) for a in arrays]


def oracle_parse_idx(data):
    types = {0x08: "u1", 0x09: "i1", 0x0B: "i2", 0x0C: "i4", 0x0D: "f4", 0x0E: "f8"}
    zero1, zero2, code, ndim = struct.unpack(">BBBB", data[:4])
    shape = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    items = np.frombuffer(data[4 + 4 * ndim:], ">" + types[code])
    return items.astype(types[code]).reshape(shape)


def oracle_softmax(z):
    out = np.empty(z.shape)
    for i, row in enumerate(_f64(z)[0]):
        e = np.exp(row - row.max())
        out[i] = e / e.sum()
    return out.astype(z.dtype)


def oracle_softmax_cross_entropy(logits, labels):
    z = _f64(logits)[0]
    n = len(z)
    losses, dlogits = [], np.empty(z.shape)
    for i in range(n):
        shifted = z[i] - z[i].max()
        losses.append(np.log(np.exp(shifted).sum()) - shifted[labels[i]])
        dlogits[i] = np.exp(shifted) / np.exp(shifted).sum()
        dlogits[i, labels[i]] -= 1
    return sum(losses) / n, (dlogits / n).astype(logits.dtype)


def oracle_linear_forward(x, w, b):
    x64, w64, b64 = _f64(x, w, b)
    out = np.empty((x.shape[0], w.shape[0]))
    for n in range(x.shape[0]):
        for m in range(w.shape[0]):
            out[n, m] = sum(x64[n, d] * w64[m, d] for d in range(x.shape[1])) + b64[m]
    return out.astype(x.dtype)


def oracle_linear_backward(dout, x, w):
    dout64, x64, w64 = _f64(dout, x, w)
    dx, dw = np.zeros(x.shape), np.zeros(w.shape)
    for n in range(x.shape[0]):
        for m in range(w.shape[0]):
            dx[n] += dout64[n, m] * w64[m]
            dw[m] += dout64[n, m] * x64[n]
    return dx.astype(x.dtype), dw.astype(w.dtype), dout64.sum(axis=0).astype(w.dtype)


def oracle_relu_forward(x):
    return np.where(x > 0, x, np.zeros_like(x))


def oracle_relu_backward(dout, x):
    return np.where(x > 0, dout, np.zeros_like(dout))


def _windows(H, W, k, stride):
    """(i, j, rows, columns) of every k x k window."""
    for i in range((H - k) // stride + 1):
        for j in range((W - k) // stride + 1):
            yield i, j, slice(i * stride, i * stride + k), slice(j * stride, j * stride + k)


def oracle_conv_forward(x, w, b, stride, padding):
    x64, w64, b64 = _f64(x, w, b)
    xp = np.pad(x64, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    (N, _, Hp, Wp), (O, _, k, _) = xp.shape, w.shape
    out = np.zeros((N, O, (Hp - k) // stride + 1, (Wp - k) // stride + 1))
    for n in range(N):
        for o in range(O):
            for i, j, rows, cols in _windows(Hp, Wp, k, stride):
                out[n, o, i, j] = (xp[n, :, rows, cols] * w64[o]).sum() + b64[o]
    return out.astype(x.dtype)


def oracle_conv_backward(dout, x, w, b, stride, padding):
    dout64, x64, w64 = _f64(dout, x, w)
    p = padding
    xp = np.pad(x64, ((0, 0), (0, 0), (p, p), (p, p)))
    dxp, dw = np.zeros(xp.shape), np.zeros(w.shape)
    (N, _, Hp, Wp), (O, _, k, _) = xp.shape, w.shape
    for n in range(N):
        for o in range(O):
            for i, j, rows, cols in _windows(Hp, Wp, k, stride):
                dxp[n, :, rows, cols] += dout64[n, o, i, j] * w64[o]
                dw[o] += dout64[n, o, i, j] * xp[n, :, rows, cols]
    dx = dxp[:, :, p:Hp - p, p:Wp - p]
    return dx.astype(x.dtype), dw.astype(w.dtype), dout64.sum(axis=(0, 2, 3)).astype(b.dtype)


def oracle_maxpool_forward(x, k, stride):
    N, C, H, W = x.shape
    out = np.zeros((N, C, (H - k) // stride + 1, (W - k) // stride + 1), x.dtype)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(H, W, k, stride):
                out[n, c, i, j] = max(x[n, c, rows, cols].ravel())
    return out


def oracle_maxpool_backward(dout, x, k, stride):
    N, C, H, W = x.shape
    dx = np.zeros(x.shape)
    for n in range(N):
        for c in range(C):
            for i, j, rows, cols in _windows(H, W, k, stride):
                window = list(x[n, c, rows, cols].ravel())
                first = window.index(max(window))                  # the first maximum, in row-major order
                dx[n, c, rows, cols].flat[first] += dout[n, c, i, j]
    return dx.astype(x.dtype)


def _bn_stats(x64, running_mean, running_var, train):
    if train:
        return x64.mean(axis=(0, 2, 3)), x64.var(axis=(0, 2, 3))
    return _f64(running_mean, running_var)


def oracle_batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, train):
    x64, g64, b64 = _f64(x, gamma, beta)
    mean, var = _bn_stats(x64, running_mean, running_var, train)
    out = np.empty(x.shape)
    for c in range(x.shape[1]):
        out[:, c] = g64[c] * (x64[:, c] - mean[c]) / np.sqrt(var[c] + eps) + b64[c]
    new_mean, new_var = _f64(running_mean, running_var)
    if train:
        m = x.size // x.shape[1]
        new_mean = (1 - momentum) * new_mean + momentum * mean
        new_var = (1 - momentum) * new_var + momentum * var * m / (m - 1)     # unbiased, as PyTorch
    return out.astype(x.dtype), new_mean.astype(running_mean.dtype), new_var.astype(running_var.dtype)


def oracle_batchnorm_backward(dout, x, gamma, running_mean, running_var, eps, train):
    dout64, x64, g64 = _f64(dout, x, gamma)
    mean, var = _bn_stats(x64, running_mean, running_var, train)
    dx, dgamma, dbeta = np.empty(x.shape), np.empty(gamma.shape), np.empty(gamma.shape)
    m = x.size // x.shape[1]
    for c in range(x.shape[1]):
        inv_std = 1 / np.sqrt(var[c] + eps)
        xhat, d = (x64[:, c] - mean[c]) * inv_std, dout64[:, c]
        dbeta[c], dgamma[c] = d.sum(), (d * xhat).sum()
        if train:      # xhat depends on x through the batch mean and variance too
            dx[:, c] = g64[c] * inv_std / m * (m * d - dbeta[c] - xhat * dgamma[c])
        else:
            dx[:, c] = g64[c] * inv_std * d
    return dx.astype(x.dtype), dgamma.astype(gamma.dtype), dbeta.astype(gamma.dtype)


def oracle_sgd_momentum_step(w, dw, velocity, lr, momentum, weight_decay):
    w64, dw64, v64 = _f64(w, dw, velocity)
    v = momentum * v64 + (dw64 + weight_decay * w64)
    return (w64 - lr * v).astype(w.dtype), v.astype(w.dtype)


def oracle_adam_step(w, dw, m, v, t, lr, beta1, beta2, eps, weight_decay):
    w64, dw64, m64, v64 = _f64(w, dw, m, v)
    g = dw64 + weight_decay * w64
    m_new = beta1 * m64 + (1 - beta1) * g
    v_new = beta2 * v64 + (1 - beta2) * g ** 2
    m_hat, v_hat = m_new / (1 - beta1 ** t), v_new / (1 - beta2 ** t)
    w_new = w64 - lr * m_hat / (np.sqrt(v_hat) + eps)
    return w_new.astype(w.dtype), m_new.astype(w.dtype), v_new.astype(w.dtype)


def oracle_accuracy(logits, y_true):
    right = 0
    for row, y in zip(logits, y_true):
        row = list(row)
        right += row.index(max(row)) == y                          # the first largest logit
    return right / len(y_true)


def oracle_confusion_matrix(y_true, y_pred, num_classes):
    counts = np.zeros((num_classes, num_classes), np.int64)
    for t, p in zip(y_true, y_pred):
        counts[t, p] += 1
    return counts


ORACLES = {name: globals()[f"oracle_{name}"] for name in EXERCISES if name != "conv_forward_naive"}
ORACLES["conv_forward_naive"] = oracle_conv_forward


def test_every_exercise_has_an_oracle():
    assert set(ORACLES) == set(EXERCISES)


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_reference_agrees_with_an_independent_oracle(name, hidden):
    """The oracle is judged against the reference as a student's function would be: every case must pass."""
    ex = EXERCISES[name]
    result = run_cases(ex, ORACLES[name], ex.cases(hidden=hidden))
    assert result.passed, result.report()


def test_metrics_references_on_hand_computed_cases():
    logits = np.array([[1.0, 3.0], [2.0, 2.0], [0.0, -1.0]])       # predictions 1, 0 (first of a tie), 0
    assert EXERCISES["accuracy"].reference(logits, np.array([1, 0, 1])) == pytest.approx(2 / 3)
    counts = EXERCISES["confusion_matrix"].reference(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 3)
    assert counts.dtype == np.int64 and counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_leaves_its_inputs_alone(name):
    ex = EXERCISES[name]
    for case in ex.cases(hidden=True):
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in case.args]
        ex.reference(*case.args)
        assert all(same(a, b) for a, b in zip(before, case.args))


@pytest.mark.parametrize("name", [n for n in EXERCISES if n not in ("parse_idx", "accuracy", "confusion_matrix")])
def test_float_exercises_have_float32_and_float64_cases(name):
    precisions = {c.precision for c in EXERCISES[name].cases(hidden=True)}
    assert precisions == {np.float32, np.float64}
