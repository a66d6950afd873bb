"""Computational graphs with the backward message on every edge: a two-layer network (chapter 3)
and batch normalization (chapter 7).

Each graph is a list of nodes (boxes) and forward edges (arrows), and every edge carries the
formula of the gradient that flows back along it. The formulas are not only drawn:
:func:`mlp_messages` and :func:`batchnorm_messages` compute each edge's message with the
formula written on it, and the plotting functions refuse to draw unless those messages add
up to what ``fmcnn.nn``'s backward passes return on a small example. A node that feeds two
others (a fan-out) receives two messages, and its gradient is their sum, written under it.
"""
from dataclasses import dataclass

import numpy as np

from ...nn import BatchNorm2D, Linear, ReLU, Sequential, SoftmaxCrossEntropy, softmax
from .style import FONT, GRADIENT, INK, MUTED, ORANGE, SKY, arrow, box, canvas, fit, tint

AXES = (0, 2, 3)      # BatchNorm's statistics run over N, H and W


@dataclass
class Edge:
    """A forward edge ``source -> target`` and the backward message written at ``(x, y)`` with alignment ``ha``."""

    source: str
    target: str
    message: str
    x: float
    y: float
    ha: str = "center"


# -- the two-layer network of chapter 3 ------------------------------------------------------

MLP_NODES = {   # name: (x, y, text, width, kind)
    "x": (0.0, 1.6, "$x$", 0.6, "input"),
    "h": (2.7, 1.6, r"$h = x W_1^\top + b_1$", 1.7, "value"),
    "a": (5.4, 1.6, r"$a = \max(h, 0)$", 1.5, "value"),
    "s": (8.1, 1.6, r"$s = a W_2^\top + b_2$", 1.7, "value"),
    "L": (10.6, 1.6, r"$L = \mathrm{CE}(s, y)$", 1.5, "value"),
    "W1": (2.7, 0.4, "$W_1$", 0.6, "input"), "b1": (2.7, 2.9, "$b_1$", 0.6, "input"),
    "W2": (8.1, 0.4, "$W_2$", 0.6, "input"), "b2": (8.1, 2.9, "$b_2$", 0.6, "input"),
    "y": (10.6, 0.4, "$y$ (labels)", 1.1, "input"),
}
MLP_EDGES = [
    Edge("x", "h", r"$\partial L/\partial x = (\partial L/\partial h)\, W_1$", 1.35, 2.1),
    Edge("W1", "h", r"$\partial L/\partial W_1 = (\partial L/\partial h)^\top x$", 2.25, 0.4, "right"),
    Edge("b1", "h", r"$\partial L/\partial b_1 = \sum_n (\partial L/\partial h)_n$", 3.15, 2.9, "left"),
    Edge("h", "a", r"$\partial L/\partial h = \partial L/\partial a \odot [h > 0]$", 4.05, 2.1),
    Edge("a", "s", r"$\partial L/\partial a = (\partial L/\partial s)\, W_2$", 6.75, 2.1),
    Edge("W2", "s", r"$\partial L/\partial W_2 = (\partial L/\partial s)^\top a$", 7.65, 0.4, "right"),
    Edge("b2", "s", r"$\partial L/\partial b_2 = \sum_n (\partial L/\partial s)_n$", 8.55, 2.9, "left"),
    Edge("s", "L", r"$\partial L/\partial s = (P - Y)/N$", 9.35, 2.1),
    Edge("y", "L", "", 0, 0),                              # labels are not differentiated
]


def mlp_messages(model, x, labels):
    """The message on every edge of the two-layer network's graph, computed with the formula drawn on it.

    model: ``Sequential(Linear, ReLU, Linear)``; x: (N, D); labels: (N,) ints. Runs the model's
    forward pass for the values h, a and s, then returns ``{(source, target): array}``.
    """
    fc1, _, fc2 = model.layers
    h = fc1.forward(x)
    a = np.maximum(h, 0)
    s = fc2.forward(a)
    onehot = np.eye(s.shape[1])[labels]
    d_s = (softmax(s) - onehot) / len(x)
    d_a = d_s @ fc2.weight.data
    d_h = d_a * (h > 0)
    return {("x", "h"): d_h @ fc1.weight.data, ("W1", "h"): d_h.T @ x, ("b1", "h"): d_h.sum(axis=0),
            ("h", "a"): d_h, ("a", "s"): d_a, ("W2", "s"): d_s.T @ a, ("b2", "s"): d_s.sum(axis=0),
            ("s", "L"): d_s}


def check_mlp_messages(seed=0):
    """Assert that :func:`mlp_messages` equals ``fmcnn.nn``'s backward pass on a random 5 x 4 -> 3 -> 2 network."""
    rng = np.random.default_rng(seed)
    model = Sequential(Linear(4, 3, rng=rng), ReLU(), Linear(3, 2, rng=rng)).to(np.float64)
    x, labels = rng.standard_normal((5, 4)), rng.integers(0, 2, 5)
    messages = mlp_messages(model, x, labels)
    assert set(messages) == {(e.source, e.target) for e in MLP_EDGES if e.message}
    loss = SoftmaxCrossEntropy()
    loss.forward(model.forward(x), labels)
    d_s = loss.backward()
    fc1, relu, fc2 = model.layers
    d_a = fc2.backward(d_s)
    d_h = relu.backward(d_a)
    expected = {("s", "L"): d_s, ("a", "s"): d_a, ("h", "a"): d_h, ("x", "h"): fc1.backward(d_h),
                ("W1", "h"): fc1.weight.grad, ("b1", "h"): fc1.bias.grad,
                ("W2", "s"): fc2.weight.grad, ("b2", "s"): fc2.bias.grad}
    for edge, value in expected.items():
        assert np.allclose(messages[edge], value, rtol=1e-12, atol=1e-14), edge


def plot_mlp_graph():
    """The computational graph of ``Linear -> ReLU -> Linear -> softmax cross-entropy`` with its backward messages.

    Checks the messages against ``fmcnn.nn`` first (:func:`check_mlp_messages`). Returns the Figure;
    the messages are the Texts with gid ``"message"``.
    """
    check_mlp_messages()
    fig, ax = canvas(10, 3.4)
    _draw_graph(ax, MLP_NODES, MLP_EDGES, {})
    ax.text(-0.4, 3.75, "CE: softmax cross-entropy, $P = \\mathrm{softmax}(s)$, $Y$: one-hot labels, "
            "$N$: batch size, $\\sum_n$: over the batch", ha="left", va="center", fontsize=FONT - 1, color=INK)
    _legend(ax, 7.6, 3.75)
    return fit(fig, ax, -0.5, -0.05, 11.5, 4.0)


# -- batch normalization, chapter 7 ------------------------------------------------------------

BN_NODES = {
    "x": (0.0, 1.7, "$x$", 0.6, "fan-out"),
    "mu": (1.3, 0.3, r"$\mu = \overline{x}$", 1.0, "value"),
    "xc": (2.9, 1.7, r"$x_c = x - \mu$", 1.3, "fan-out"),
    "v": (4.6, 0.3, r"$v = \overline{x_c^2}$", 1.1, "value"),
    "s": (6.6, 0.3, r"$s = (v + \varepsilon)^{-1/2}$", 1.7, "value"),
    "xhat": (8.3, 1.7, r"$\hat{x} = x_c\, s$", 1.1, "value"),
    "y": (10.2, 1.7, r"$y = \gamma \hat{x} + \beta$", 1.4, "value"),
    "gb": (10.2, 0.3, r"$\gamma,\ \beta$", 0.8, "input"),
}
BN_EDGES = [
    Edge("x", "mu", r"$d\mu / m$", 0.45, 0.9, "right"),
    Edge("x", "xc", "$dx_c$", 1.45, 1.95),
    Edge("mu", "xc", r"$d\mu = -\sum dx_c$", 1.55, 1.25),
    Edge("xc", "v", r"$\frac{2}{m}\, dv\, x_c$", 3.95, 1.15, "left"),
    Edge("v", "s", r"$dv = -\frac{1}{2}\, ds\, s^3$", 5.45, -0.3),
    Edge("s", "xhat", r"$ds = \sum d\hat{x}\, x_c$", 7.6, 0.95, "left"),
    Edge("xc", "xhat", r"$d\hat{x}\, s$", 5.6, 1.95),
    Edge("xhat", "y", r"$d\hat{x} = \gamma\, dy$", 9.25, 2.25),
    Edge("gb", "y", r"$d\gamma = \sum dy\, \hat{x}$,  $d\beta = \sum dy$", 9.7, 0.3, "right"),
]
BN_SUMS = {"x": r"$dx = dx_c + d\mu / m$", "xc": r"$dx_c = d\hat{x}\, s + \frac{2}{m}\, dv\, x_c$"}


def batchnorm_messages(x, dy, gamma, eps=1e-5):
    """The message on every edge of batch normalization's graph (training mode), computed with the formula drawn on it.

    x, dy: (N, C, H, W); gamma: (C,). Returns ``{(source, target): array}``; the gradient of a
    fan-out node is the sum of its two outgoing edges' messages (``BN_SUMS``).
    """
    m = x.shape[0] * x.shape[2] * x.shape[3]
    mu = x.mean(axis=AXES, keepdims=True)
    xc = x - mu
    v = (xc ** 2).mean(axis=AXES, keepdims=True)
    s = (v + eps) ** -0.5
    xhat = xc * s
    d_xhat = gamma[:, None, None] * dy
    ds = (d_xhat * xc).sum(axis=AXES, keepdims=True)
    dv = -0.5 * ds * s ** 3
    d_xc = d_xhat * s + 2 / m * dv * xc                  # the two paths into x_c add
    d_mu = -d_xc.sum(axis=AXES, keepdims=True)
    return {("x", "mu"): d_mu / m, ("x", "xc"): d_xc, ("mu", "xc"): d_mu, ("xc", "v"): 2 / m * dv * xc,
            ("v", "s"): dv, ("s", "xhat"): ds, ("xc", "xhat"): d_xhat * s, ("xhat", "y"): d_xhat,
            ("gb", "y"): ((dy * xhat).sum(axis=AXES), dy.sum(axis=AXES))}


def check_batchnorm_messages(seed=0):
    """Assert that :func:`batchnorm_messages` adds up to ``fmcnn.nn.BatchNorm2D``'s backward pass
    on a random (4, 3, 5, 5) batch: dx = dx_c + dμ/m, and dγ, dβ."""
    rng = np.random.default_rng(seed)
    x, dy = rng.standard_normal((4, 3, 5, 5)) * 3 + 1, rng.standard_normal((4, 3, 5, 5))
    layer = BatchNorm2D(3).to(np.float64)
    layer.weight.data = rng.standard_normal(3)
    messages = batchnorm_messages(x, dy, layer.weight.data, layer.eps)
    assert set(messages) == {(e.source, e.target) for e in BN_EDGES}
    layer.forward(x)
    dx = layer.backward(dy)
    assert np.allclose(messages["x", "xc"] + messages["x", "mu"], dx, rtol=1e-10, atol=1e-12)
    d_gamma, d_beta = messages["gb", "y"]
    assert np.allclose(d_gamma, layer.weight.grad) and np.allclose(d_beta, layer.bias.grad)


def plot_batchnorm_graph():
    """Batch normalization's computational graph for one channel, with its backward messages and fan-outs.

    x and x_c each feed two nodes (outlined thick, orange); under each, its gradient as the sum
    of the two messages coming back. Checks the messages against ``fmcnn.nn.BatchNorm2D``
    first (:func:`check_batchnorm_messages`). Returns the Figure; the messages are the Texts
    with gid ``"message"``, the sums those with gid ``"sum"``.
    """
    check_batchnorm_messages()
    fig, ax = canvas(10, 3.3)
    _draw_graph(ax, BN_NODES, BN_EDGES, BN_SUMS)
    ax.text(-0.4, 3.35, r"$dz = \partial L/\partial z$; bars and $\sum$ run over the $m$ values of a channel "
            "(N, H, W)", ha="left", va="center", fontsize=FONT - 1, color=INK)
    _legend(ax, 5.5, 3.35, fan_out=True)
    return fit(fig, ax, -0.5, -0.6, 11.4, 3.6)


# -- drawing ------------------------------------------------------------------------------------

def _draw_graph(ax, nodes, edges, sums):
    boxes = {}
    for name, (x, y, text, width, kind) in nodes.items():
        fan_out = kind == "fan-out"
        fill = {"input": "white", "value": tint(SKY, 0.35), "fan-out": tint(ORANGE, 0.45)}[kind]
        boxes[name] = box(ax, x, y, text, width, height=0.55, fill=fill, lw=2.2 if fan_out else 1.0)
    for edge in edges:
        arrow(ax, boxes[edge.source], boxes[edge.target], color=INK if edge.message else MUTED)
        if edge.message:
            ax.text(edge.x, edge.y, edge.message, ha=edge.ha, va="center", fontsize=FONT, color=GRADIENT,
                    gid="message")
    for name, text in sums.items():
        x, y = nodes[name][:2]
        ax.text(x, y + 0.75, text, ha="left" if x < 0.5 else "center", va="center", fontsize=FONT,
                color=GRADIENT, gid="sum", bbox=dict(boxstyle="round,pad=0.2", facecolor="white",
                                                     edgecolor=GRADIENT, lw=0.8))


def _legend(ax, x, y, fan_out=False):
    """Explain the arrows and the colours at (x, y): forward arrow, backward message, fan-out box."""
    ax.annotate("", (x + 0.5, y), (x, y), arrowprops=dict(arrowstyle="-|>", color=INK, lw=1.2))
    ax.text(x + 0.6, y, "forward", ha="left", va="center", fontsize=FONT - 1, color=INK)
    ax.text(x + 1.55, y, "backward message", ha="left", va="center", fontsize=FONT - 1, color=GRADIENT)
    if fan_out:
        box(ax, x + 3.55, y, "", 0.3, height=0.22, fill=tint(ORANGE, 0.45), lw=2.2)
        ax.text(x + 3.8, y, "fan-out: two paths add", ha="left", va="center", fontsize=FONT - 1, color=INK)
