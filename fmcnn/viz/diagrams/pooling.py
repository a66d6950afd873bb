"""Where max pooling sends each gradient, on windows with a tie: chapter 6.

The forward and backward passes are those of ``fmcnn.nn.MaxPool2D``: each window's gradient
goes to its first maximum in row-major order. The picture sets beside it the tempting mask
rule, which sends the gradient to every position equal to the maximum, so a tie counts twice.
"""
import numpy as np

from ...nn import MaxPool2D
from .style import BLUE, FONT, GRADIENT, GREEN, INK, ORANGE, PURPLE, SKY, canvas, fit, grid, outline, tint

# Chapter 6's x_tiny, whose top-left window is its x_tie: two equal maxima, 3 and 3.
EXAMPLE = np.array([[1, 3, 2, 0],
                    [3, 2, 1, 1],
                    [0, 2, 6, 7],
                    [1, 8, 3, 2]], dtype=np.float64)
UPSTREAM = np.array([[10, 20], [30, 40]], dtype=np.float64)   # chapter 6's dout_tiny


def pooling_routes(x, grad_out, kernel_size=2):
    """Max pooling of one map, and where its gradient goes under two rules.

    x: (H, W); grad_out: (H // k, W // k), windows of k x k with stride k. Returns
    ``(out, dx_first, dx_mask)``: ``out`` and ``dx_first`` are ``fmcnn.nn.MaxPool2D``'s forward
    and backward results (each gradient to the window's first maximum); ``dx_mask`` sends each
    window's gradient to every position equal to its maximum (wrong when there is a tie).
    """
    k = kernel_size
    x, grad_out = np.asarray(x, dtype=np.float64), np.asarray(grad_out, dtype=np.float64)
    pool = MaxPool2D(k).to(np.float64)
    out = pool.forward(x[None, None])[0, 0]
    dx_first = pool.backward(grad_out[None, None])[0, 0]
    spread = np.ones((k, k))                     # np.kron(a, spread): each window's value on its k*k pixels
    rows, cols = out.shape[0] * k, out.shape[1] * k
    dx_mask = np.zeros(dx_first.shape)
    dx_mask[:rows, :cols] = (x[:rows, :cols] == np.kron(out, spread)) * np.kron(grad_out, spread)
    return out, dx_first, dx_mask


def plot_pooling_tie(x=EXAMPLE, grad_out=UPSTREAM):
    """2x2 max pooling's backward pass: ``fmcnn.nn.MaxPool2D`` routes each gradient to the first
    maximum of its window, the mask rule to every tied maximum.

    Each window and everything that belongs to it (its upstream gradient, where that gradient
    lands) has its own colour; the maxima of x are bold, and what the mask rule sends where
    MaxPool2D does not is outlined with dashes. Below each dL/dx, the total it sends back,
    against the upstream total. Returns the Figure; the dL/dx numbers have gids
    ``"dx_first"`` and ``"dx_mask"``.
    """
    k = 2
    out, dx_first, dx_mask = pooling_routes(x, grad_out, k)
    colors = np.array([[SKY, ORANGE], [GREEN, PURPLE]])[:out.shape[0], :out.shape[1]]
    fills = np.vectorize(lambda c: tint(c, 0.45))(np.kron(colors, np.ones((k, k), dtype=object)))
    H, W = x.shape
    fig, ax = canvas(10, 2.9)
    maxima = x == np.kron(out, np.ones((k, k)))
    panels = [("x: 2×2 windows, maxima bold", x, fills, maxima, None),
              ("∂L/∂out", grad_out, np.vectorize(lambda c: tint(c, 0.45))(colors), None, None),
              ("∂L/∂x, fmcnn.nn.MaxPool2D:\nthe first maximum", dx_first, np.where(dx_first != 0, fills, None),
               None, "dx_first"),
              ("∂L/∂x, mask rule (wrong):\nevery tied maximum", dx_mask, np.where(dx_mask != 0, fills, None),
               None, "dx_mask")]
    left = 0.0
    for title, values, cell_fills, bold, gid in panels:
        top = (H - values.shape[0]) / 2
        grid(ax, values, left, top, fills=cell_fills, fmt="{:.0f}", bold=bold, gid=gid)
        ax.text(left + values.shape[1] / 2, top - 0.2, title, ha="center", va="bottom", fontsize=FONT)
        if gid:
            ax.text(left + W / 2, H + 0.25, f"sends back {values.sum():.0f}", ha="center", va="top", fontsize=FONT,
                    color=INK)
        left += values.shape[1] + 1.8
    for i in range(0, H - k + 1, k):
        for j in range(0, W - k + 1, k):
            outline(ax, j, i, k, k, BLUE)
    tied = (maxima.reshape(out.shape[0], k, out.shape[1], k).sum(axis=(1, 3)) > 1).sum()
    ax.text(0, H + 0.25, f"{tied} window with a tie" if tied == 1 else f"{tied} windows with a tie",
            ha="left", va="top", fontsize=FONT, color=INK)
    ax.text(W + 1.8 + out.shape[1] / 2, H + 0.25, f"in total {grad_out.sum():.0f}", ha="center", va="top",
            fontsize=FONT, color=INK)
    for i, j in zip(*np.nonzero(dx_mask != dx_first)):       # what the mask rule sends in excess
        outline(ax, left - 1.8 - W + j, i, 1, 1, GRADIENT, "--")
    return fit(fig, ax, -0.2, -1.4, left - 1.6, H + 1.0)
