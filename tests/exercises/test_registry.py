"""The exercise table: enough exercises, points, visible/hidden cases of the same kinds, and
references that agree with independent oracles."""
import copy
import dataclasses
import struct

import numpy as np
import pytest

from .helpers import EXERCISES as EXERCISES_DIR, SOLUTIONS
from fmcnn import nn
from fmcnn.data.idx import encode_idx
from fmcnn.exercises import EXERCISES, NOTEBOOKS, TOTAL_POINTS, get_exercise
from fmcnn.exercises.checker import run_cases

FUNCTIONS = [name for name, e in EXERCISES.items() if not e.question]
QUESTIONS = [name for name, e in EXERCISES.items() if e.question]


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if dataclasses.is_dataclass(a):                                # a function of numerical_gradient's cases
        return type(a) is type(b) and same(dataclasses.asdict(a), dataclasses.asdict(b))
    return a == b


def kind(label):
    return label.split(":")[0]


def test_at_least_twenty_six_graded_functions_and_a_question_in_every_notebook():
    assert len(FUNCTIONS) >= 26
    assert TOTAL_POINTS == sum(e.points for e in EXERCISES.values()) == 94
    assert all(e.points > 0 for e in EXERCISES.values())
    assert list(NOTEBOOKS) == ["01_data", "02_softmax", "03_linear_relu", "04_conv_forward", "05_conv_backward",
                               "06_pooling", "07_batchnorm", "08_lenet", "09_optimizers", "10_metrics",
                               "12_inside_the_network", "debugging"]
    for stem, names in NOTEBOOKS.items():
        assert (SOLUTIONS / f"{stem}.ipynb").exists() and (EXERCISES_DIR / f"{stem}.ipynb").exists()
        assert any(EXERCISES[n].question for n in names) and not all(EXERCISES[n].question for n in names)


def test_unknown_name_lists_the_exercises():
    with pytest.raises(KeyError, match="conv_forward"):
        get_exercise("conv_fwd")


@pytest.mark.parametrize("name", FUNCTIONS)
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


def oracle_numerical_gradient(f, x, h):
    grad = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        plus, minus = x.astype(np.float64), x.astype(np.float64)
        plus[i] += h
        minus[i] -= h
        grad[i] = (f(plus) - f(minus)) / (2 * h)
    return grad


# The numerical estimates are judged against the exact gradients of the float64 inputs.

def oracle_numerical_dlogits(logits, labels):
    return oracle_softmax_cross_entropy(*_f64(logits), labels)[1]


def oracle_linear_numerical_grads(dout, x, w, b):
    return oracle_linear_backward(*_f64(dout, x, w))


def oracle_relu_numerical_grad(dout, x):
    return oracle_relu_backward(*_f64(dout, x))


def oracle_conv_numerical_grads(dout, x, w, b, stride, padding):
    return oracle_conv_backward(*_f64(dout, x, w, b), stride, padding)


def oracle_maxpool_numerical_grad(dout, x, k, stride):
    return oracle_maxpool_backward(*_f64(dout, x), k, stride)


def oracle_batchnorm_numerical_grads(dout, x, gamma, running_mean, running_var, eps, train):
    return oracle_batchnorm_backward(*_f64(dout, x, gamma, running_mean, running_var), eps, train)


def _unfold_index(x_shape, k, stride):
    """Yield (row, column, (n, c, y, x)): which input entry every entry of the im2col matrix copies."""
    N, C, H, W = x_shape
    for n in range(N):
        for c in range(C):
            for a in range(k):
                for d in range(k):
                    for column, (i, j, _, _) in enumerate(_windows(H, W, k, stride)):
                        yield (n, (c * k + a) * k + d, column), (n, c, i * stride + a, j * stride + d)


def oracle_im2col(x, k, stride):
    N, C, H, W = x.shape
    cols = np.zeros((N, C * k * k, ((H - k) // stride + 1) * ((W - k) // stride + 1)), x.dtype)
    for to, source in _unfold_index(x.shape, k, stride):
        cols[to] = x[source]
    return cols


def oracle_col2im(cols, x_shape, k, stride):
    x = np.zeros(x_shape)
    for source, to in _unfold_index(x_shape, k, stride):
        x[to] += cols[source]
    return x.astype(cols.dtype)


def oracle_adjoint_test(x, cols, k, stride):
    x64, cols64 = _f64(x, cols)
    return (float((oracle_im2col(x64, k, stride) * cols64).sum()),
            float((x64 * oracle_col2im(cols64, x.shape, k, stride)).sum()))


def oracle_lenet_parameter_counts(in_channels, image_size, width):
    """Build the network from fmcnn.nn and count; fc1's input size comes from a forward pass."""
    c1, c2, h1, h2 = 6 * width, 16 * width, 120 * width, 84 * width
    features = nn.Sequential(nn.Conv2D(in_channels, c1, 5, padding=2), nn.BatchNorm2D(c1), nn.ReLU(), nn.MaxPool2D(2),
                             nn.Conv2D(c1, c2, 5), nn.BatchNorm2D(c2), nn.ReLU(), nn.MaxPool2D(2), nn.Flatten())
    fc_in = features.eval().forward(np.zeros((1, in_channels, image_size, image_size), np.float32)).shape[1]
    layers = [features[i] for i in (0, 1, 4, 5)] + [nn.Linear(fc_in, h1), nn.Linear(h1, h2), nn.Linear(h2, 10)]
    return np.array([layer.num_parameters() for layer in layers])


def _lenet_oracle(x, params, objective=None):
    """LeNet-BN in evaluation mode from the oracles above, in float64: the logits, or with ``objective``
    (the gradient of some objective with respect to the logits, given the logits) the input gradient."""
    p = {name: np.asarray(v, np.float64) for name, v in params.items()}
    h, tape = np.asarray(x, np.float64), []
    for i in (1, 2):
        conv_in = h
        h = oracle_conv_forward(h, p[f"conv{i}.weight"], p[f"conv{i}.bias"], 1, 2 if i == 1 else 0)
        inv_std = 1 / np.sqrt(p[f"bn{i}.running_var"] + 1e-5)
        scale = (p[f"bn{i}.weight"] * inv_std)[:, None, None]
        h = scale * (h - p[f"bn{i}.running_mean"][:, None, None]) + p[f"bn{i}.bias"][:, None, None]
        relu_in = h
        h = oracle_maxpool_forward(oracle_relu_forward(h), 2, 2)
        tape.append((conv_in, i, scale, relu_in))
    flat_shape, h = h.shape, h.reshape(len(h), -1)
    fc_ins = []
    for i in (1, 2, 3):
        fc_ins.append(h)
        h = oracle_linear_forward(h, p[f"fc{i}.weight"], p[f"fc{i}.bias"])
        if i < 3:
            h = oracle_relu_forward(h)
    if objective is None:
        return h.astype(x.dtype)
    g = objective(h)
    for i in (3, 2, 1):
        if i < 3:
            g = oracle_relu_backward(g, fc_ins[i])
        g = oracle_linear_backward(g, fc_ins[i - 1], p[f"fc{i}.weight"])[0]
    g = g.reshape(flat_shape)
    for conv_in, i, scale, relu_in in reversed(tape):
        g = oracle_maxpool_backward(g, oracle_relu_forward(relu_in), 2, 2)
        g = oracle_relu_backward(g, relu_in) * scale
        g = oracle_conv_backward(g, conv_in, p[f"conv{i}.weight"], p[f"conv{i}.bias"], 1, 2 if i == 1 else 0)[0]
    return g.astype(x.dtype)


def oracle_lenet_forward(x, params):
    return _lenet_oracle(x, params)


def oracle_score_saliency(x, targets, params):
    return _lenet_oracle(x, params, lambda z: np.eye(10)[targets])


def oracle_loss_saliency(x, targets, params):
    return _lenet_oracle(x, params, lambda z: oracle_softmax(z) - np.eye(10)[targets])


ORACLES = {name: globals()[f"oracle_{name}"] for name in FUNCTIONS
           if name != "conv_forward_naive" and not name.startswith("debug_")}
ORACLES["conv_forward_naive"] = oracle_conv_forward
# The fixed debugging functions are pieces of earlier exercises.
ORACLES.update({
    "debug_softmax": oracle_softmax,
    "debug_dlogits": lambda logits, labels: oracle_softmax_cross_entropy(logits, labels)[1],
    "debug_linear_dw": lambda dout, x, w: oracle_linear_backward(dout, x, w)[1],
    "debug_conv_dx": lambda dout, x, w, s, p: oracle_conv_backward(dout, x, w, np.zeros(len(w)), s, p)[0],
    "debug_maxpool_dx": oracle_maxpool_backward,
    "debug_batchnorm_forward": lambda x, gamma, beta, eps: oracle_batchnorm_forward(
        x, gamma, beta, np.zeros(x.shape[1]), np.ones(x.shape[1]), 0.1, eps, True)[0],
})


def test_every_function_has_an_oracle():
    assert set(ORACLES) == set(FUNCTIONS)


@pytest.mark.parametrize("name", FUNCTIONS)
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
        before = copy.deepcopy(case.args)
        ex.reference(*case.args)
        assert all(same(a, b) for a, b in zip(before, case.args))


NO_FLOATS = ("parse_idx", "accuracy", "confusion_matrix", "lenet_parameter_counts")
ONE_PRECISION = ("numerical_gradient",                                  # float64: f takes float64
                 "lenet_forward", "score_saliency", "loss_saliency")   # float32: LeNet-BN as trained


@pytest.mark.parametrize("name", [n for n in FUNCTIONS if n not in NO_FLOATS + ONE_PRECISION])
def test_float_exercises_have_float32_and_float64_cases(name):
    dtypes = {a.dtype for c in EXERCISES[name].cases(hidden=True) for a in c.args
              if isinstance(a, np.ndarray) and a.dtype.kind == "f"}
    assert dtypes == {np.dtype(np.float32), np.dtype(np.float64)}


# --- concept questions: each answer derived here another way -------------------------------------

def _windows_containing(pixel, H, W, k, stride):
    return sum(rows.start <= pixel[0] < rows.stop and cols.start <= pixel[1] < cols.stop
               for _, _, rows, cols in _windows(H, W, k, stride))


def _pool_check_verdicts():
    """Which of overlapping windows (1), ties (2) and a batch of one (3) a numerical check can test:
    the central difference agrees with the exact gradient, or not."""
    rng = np.random.default_rng(0)
    tied = np.zeros((2, 1, 2, 2))
    tied[:, :, 0, :] = 1.0                                          # two maxima in every window
    inputs = {1: (rng.standard_normal((2, 1, 5, 5)), 3, 1), 2: (tied, 2, 2),
              3: (rng.standard_normal((1, 2, 4, 4)), 2, 2)}
    verdicts = {}
    for option, (x, k, s) in inputs.items():
        dout = rng.standard_normal(oracle_maxpool_forward(x, k, s).shape)
        numeric = oracle_numerical_gradient(lambda v: float((oracle_maxpool_forward(v, k, s) * dout).sum()), x, 1e-6)
        verdicts[option] = np.allclose(numeric, oracle_maxpool_backward(dout, x, k, s))
    return verdicts


def _receptive_field():
    """Input rows that one conv2 output row reads: conv2 reads 5 pool1 rows, each pool1 row 2 conv1 rows,
    each conv1 row (padding 2) 5 input rows."""
    pool1_rows = range(5)
    conv1_rows = {2 * r + d for r in pool1_rows for d in range(2)}
    return len({q - 2 + d for q in conv1_rows for d in range(5)})


def _momentum_speedup():
    """The velocity after many steps with gradient 1: how many times plain SGD's step (lr * 1) the step is."""
    v = np.zeros(1)
    for _ in range(500):
        _, v = oracle_sgd_momentum_step(np.zeros(1), np.ones(1), v, 1.0, 0.9, 0.0)
    return round(float(v[0]), 6)


def _gradcheck_of_a_consistent_bug():
    """A forward pass with a sign error and the exact backward pass of that wrong forward pass: the
    numerical check passes (so it proves neither 1 nor 3), and it compares the backward pass to the forward."""
    x, dout = np.array([0.5, -1.0, 2.0]), np.array([1.0, 2.0, -1.0])
    numeric = oracle_numerical_gradient(lambda v: float((-v * dout).sum()), x, 1e-6)
    return 2 if np.allclose(numeric, -dout) else None


ANSWERS = {
    "q_labels_file_bytes": lambda: len(encode_idx(np.zeros(60_000, np.uint8))),
    "q_uniform_loss": lambda: oracle_softmax_cross_entropy(np.zeros((1, 10)), np.array([3]))[0],
    "q_central_difference_error": lambda: round(
        abs((np.sin(1 + 0.1) - np.sin(1 - 0.1)) / 0.2 - np.cos(1))
        / abs((np.sin(1 + 0.05) - np.sin(1 - 0.05)) / 0.1 - np.cos(1))),
    "q_relu_kink": lambda: oracle_numerical_gradient(lambda v: float(oracle_relu_forward(v).sum()),
                                                     np.zeros(1), 1e-3)[0],
    "q_conv_output_size": lambda: oracle_conv_forward(np.zeros((1, 1, 28, 28)), np.zeros((1, 1, 5, 5)),
                                                      np.zeros(1), 2, 1).shape[2],
    "q_im2col_size": lambda: oracle_im2col(np.zeros((1, 6, 14, 14)), 5, 1).size,
    "q_windows_per_pixel": lambda: _windows_containing((0, 2), 6, 6, 3, 1),
    "q_pool_check_blind_spot": lambda: [option for option, ok in _pool_check_verdicts().items() if not ok][0],
    "q_bn_dx_sum": lambda: round(oracle_batchnorm_backward(
        *np.random.default_rng(0).standard_normal((2, 3, 2, 3, 4)), np.ones(2), np.zeros(2), np.ones(2), 1e-5,
        True)[0][:, 0].sum(), 9),
    "q_receptive_field": _receptive_field,
    "q_momentum_speedup": _momentum_speedup,
    "q_adam_first_step": lambda: abs(oracle_adam_step(np.zeros(1), np.full(1, 0.003), np.zeros(1), np.zeros(1), 1,
                                                      0.001, 0.9, 0.999, 1e-8, 0.0)[0][0]),
    "q_constant_classifier": lambda: oracle_accuracy(np.tile(np.eye(10)[1], (1000, 1)), np.repeat(np.arange(10), 100)),
    "q_confident_gradient": lambda: oracle_softmax_cross_entropy(np.log([[0.999, 0.0005, 0.0005]]),
                                                                 np.array([0]))[1][0, 0],
    "q_gradcheck_meaning": _gradcheck_of_a_consistent_bug,
}


def test_every_question_has_an_independent_answer():
    assert set(ANSWERS) == set(QUESTIONS)


@pytest.mark.parametrize("name", QUESTIONS)
def test_answer_key_agrees_with_an_independent_derivation(name, capsys):
    ex = EXERCISES[name]
    cases = ex.cases(hidden=True)
    assert len(cases) == 1 and cases[0].args == () and ex.cases()[0] == cases[0]
    assert np.ndim(ex.reference()) == 0
    result = run_cases(ex, ANSWERS[name], cases)
    assert result.passed, result.report()
