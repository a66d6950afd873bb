import math

import numpy as np
import pytest

from fmcnn.nn import Parameter
from fmcnn.optim import SGD, Adam, cosine_lr


def param(values):
    p = Parameter(np.array(values, dtype=np.float64))
    return p


def test_sgd_momentum_matches_pytorch_formula():
    p = param([1.0])
    opt = SGD([p], lr=0.1, momentum=0.9, weight_decay=0.01)
    v, x = 0.0, 1.0
    for g in (1.0, -2.0, 0.5):
        p.grad[:] = g
        opt.step()
        v = 0.9 * v + (g + 0.01 * x)
        x -= 0.1 * v
    assert np.isclose(p.data[0], x)


def test_adam_matches_the_paper():
    p = param([1.0, -1.0])
    opt = Adam([p], lr=0.01, betas=(0.9, 0.999), eps=1e-8)
    m = v = np.zeros(2)
    x = np.array([1.0, -1.0])
    for t, g in enumerate(([0.5, -1.0], [0.1, 2.0], [-0.3, 0.0]), start=1):
        p.grad[:] = g
        opt.step()
        g = np.array(g)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        x = x - 0.01 * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
    np.testing.assert_allclose(p.data, x, rtol=1e-10)


def test_adam_minimizes_a_quadratic():
    p = param([5.0, -3.0])
    opt = Adam([p], lr=0.1)
    for _ in range(500):
        opt.zero_grad()
        p.grad += 2 * p.data
        opt.step()
    assert np.abs(p.data).max() < 1e-2


def test_state_round_trip_continues_identically():
    def run(split):
        p = param([1.0, 2.0])
        opt = Adam([p], lr=0.1)
        for i in range(6):
            if i == split:
                state = {k: np.array(v, copy=True) for k, v in opt.state_dict().items()}
                opt = Adam([p], lr=0.1)
                opt.load_state_dict(state)
            p.grad[:] = [math.sin(i), math.cos(i)]
            opt.step()
        return p.data
    np.testing.assert_array_equal(run(split=None), run(split=3))


def test_cosine_schedule():
    assert cosine_lr(0, 100, 1.0) == 1.0
    assert np.isclose(cosine_lr(50, 100, 1.0), 0.5)
    assert np.isclose(cosine_lr(100, 100, 1.0, min_lr=0.1), 0.1)
    assert cosine_lr(4, 100, 1.0, warmup_steps=10) == pytest.approx(0.5)


def test_optimizer_without_parameters_is_an_error():
    with pytest.raises(ValueError, match="no parameters"):
        SGD([], lr=0.1)


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_over_many_parameters_equals_one_update_per_parameter(weight_decay):
    # The flat buffers must be pure bookkeeping: the same numbers as updating each
    # parameter on its own, bit for bit, for parameters of different shapes and dtypes
    # that share one optimizer.
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (5,), (2, 1, 3, 3)]
    params = [Parameter(rng.standard_normal(s).astype(np.float32)) for s in shapes]
    singles = [Parameter(p.data.copy()) for p in params]
    opt = Adam(params, lr=0.01, weight_decay=weight_decay)
    single_opts = [Adam([q], lr=0.01, weight_decay=weight_decay) for q in singles]
    for _ in range(4):
        for p, q in zip(params, singles):
            p.grad[...] = q.grad[...] = rng.standard_normal(p.data.shape)
        opt.step()
        for o in single_opts:
            o.step()
    for p, q, m, o in zip(params, singles, opt.m, single_opts):
        np.testing.assert_array_equal(p.data, q.data)
        np.testing.assert_array_equal(m, o.m[0])
        assert m.shape == p.data.shape
