"""Numerical gradient checking: compare a backward pass with central differences.

Every check runs in float64: with float32, rounding error in f(x + h) - f(x - h)
swamps the difference for any useful step size h.
"""
import numpy as np


def rel_error(a, b):
    """Largest elementwise relative error max |a - b| / max(|a| + |b|, 1e-8)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-8)))


def normwise_error(a, b):
    """Relative error of the whole array: max |a - b| / max(max |a|, max |b|, 1e-12).

    Used for whole-model checks, where many gradient entries are tiny (units
    that ReLU switched off) and the elementwise ratio would magnify rounding noise.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(a)), np.max(np.abs(b)), 1e-12))


def numerical_gradient(f, x, h=1e-6, indices=None):
    """Central-difference estimate of d f / d x for a scalar function ``f()``.

    ``x`` is changed in place, one element at a time (and restored), so ``f``
    must read it: (f(x + h e_i) - f(x - h e_i)) / 2h has error O(h^2).
    The loop over elements is the point of this slow reference method.
    ``indices`` (flat positions) limits the work to those elements; the others
    stay 0. Returns an array shaped like x.
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for i in range(flat_x.size) if indices is None else indices:
        old = flat_x[i]
        flat_x[i] = old + h
        plus = f()
        flat_x[i] = old - h
        minus = f()
        flat_x[i] = old
        flat_g[i] = (plus - minus) / (2 * h)
    return grad


def _restoring_buffers(module):
    """Snapshot BatchNorm running statistics, which every training-mode forward changes."""
    saved = {name: b.copy() for name, b in module.named_buffers()}

    def restore():
        for name, b in module.named_buffers():
            b[...] = saved[name]
    return restore


def check_layer(layer, x, seed=0, h=1e-6):
    """Check a layer's input and parameter gradients numerically.

    The scalar tested is L = sum(layer(x) * g) for a fixed random g, so that
    dL/d(output) = g exercises every output. ``layer`` and ``x`` are cast to
    float64 first (the layer is modified in place).

    Returns ``{"x": rel_error, "<param name>": rel_error, ...}``.
    """
    layer.to(np.float64)
    x = np.array(x, dtype=np.float64)
    restore = _restoring_buffers(layer)
    g = np.random.default_rng(seed).standard_normal(layer.forward(x).shape)

    def loss():
        return float(np.sum(layer.forward(x) * g))

    restore()
    layer.zero_grad()
    layer.forward(x)
    dx = layer.backward(g)
    errors = {"x": rel_error(dx, numerical_gradient(loss, x, h))}
    for name, p in layer.named_parameters():
        errors[name] = rel_error(p.grad, numerical_gradient(loss, p.data, h))
    restore()
    return errors


def check_loss(loss_fn, logits, labels, h=1e-6):
    """Check ``loss_fn.backward()`` against numerical d(loss)/d(logits). Returns the relative error."""
    logits = np.array(logits, dtype=np.float64)
    loss_fn.forward(logits, labels)
    analytic = loss_fn.backward()
    return rel_error(analytic, numerical_gradient(lambda: loss_fn.forward(logits, labels), logits, h))


def _sample(size, max_entries, rng):
    """All flat positions, or ``max_entries`` of them drawn at random without replacement."""
    return np.arange(size) if size <= max_entries else np.sort(rng.choice(size, max_entries, replace=False))


def check_model(model, loss_fn, x, labels, h=1e-6, max_entries=50, seed=0):
    """Check the gradients of a whole model followed by a loss.

    Returns ``{"x": error, "<param name>": error, ...}`` measured in float64 with
    :func:`normwise_error`. A parameter whose true gradient is exactly zero (a
    convolution bias right before BatchNorm in training mode: BatchNorm subtracts
    the batch mean, so the bias cancels) shows only rounding noise, so its error
    is near 1; check its gradient with ``np.abs(p.grad).max()`` instead.

    Every entry costs two forward passes, so at most ``max_entries`` randomly
    chosen entries of the input and of each parameter are checked. A model
    whose ``backward`` returns None (no input gradient, as
    :class:`fmcnn.fast.FusedLeNetBN`) gets no ``"x"`` entry.
    """
    model.to(np.float64)
    x = np.array(x, dtype=np.float64)
    restore = _restoring_buffers(model)

    def loss():
        return loss_fn.forward(model.forward(x), labels)

    model.zero_grad()
    loss()
    dx = model.backward(loss_fn.backward())
    rng = np.random.default_rng(seed)
    errors = {}
    inputs = [("x", dx, x)] if dx is not None else []
    for name, analytic, values in inputs + [(n, p.grad, p.data) for n, p in model.named_parameters()]:
        picked = _sample(values.size, max_entries, rng)
        numeric = numerical_gradient(loss, values, h, picked)
        errors[name] = normwise_error(analytic.reshape(-1)[picked], numeric.reshape(-1)[picked])
    restore()
    return errors
