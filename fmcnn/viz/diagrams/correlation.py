"""A convolution's input gradient as a full correlation with the flipped kernel: chapter 5.

:func:`full_correlation` computes dL/dx for a one-channel convolution the way the picture
shows it (dilate the upstream gradient, pad it, correlate with the kernel rotated by 180
degrees); :func:`plot_full_correlation` draws those steps and refuses to draw if their
result differs from ``fmcnn.nn.Conv2D.backward`` on the same example.
"""
from dataclasses import dataclass

import numpy as np
from matplotlib.patches import FancyArrowPatch

from ...nn import Conv2D, conv_output_size, im2col
from .style import FONT, GRADIENT, INK, MUTED, ORANGE, PAPER, canvas, fit, grid, outline, tint


@dataclass
class FullCorrelation:
    """The steps from the upstream gradient G to dL/dx, for one channel, each a 2-D array."""

    grad_out: np.ndarray   # G, (Ho, Wo)
    dilated: np.ndarray    # stride - 1 zeros between neighbouring entries of G
    padded: np.ndarray     # the dilated G with k - 1 zeros on every side
    kernel: np.ndarray     # K, (k, k)
    flipped: np.ndarray    # K rotated by 180 degrees
    input_grad: np.ndarray  # dL/dx, (H, W): the valid correlation of ``padded`` with ``flipped``


def full_correlation(grad_out, kernel, stride, input_size):
    """dL/dx of a one-channel convolution (no padding) as a full correlation; returns :class:`FullCorrelation`.

    grad_out: (Ho, Wo); kernel: (k, k); input_size: (H, W) of the input. The correlation is
    ``fmcnn.nn.im2col`` and one product, as in the forward pass. Rows and columns of the input
    that no window reached (when the stride does not divide H - k) get gradient 0.
    """
    grad_out, kernel = np.asarray(grad_out, dtype=np.float64), np.asarray(kernel, dtype=np.float64)
    k, (Ho, Wo) = kernel.shape[0], grad_out.shape
    # The outputs sat `stride` pixels apart on the input, so their gradients do too.
    dilated = np.zeros(((Ho - 1) * stride + 1, (Wo - 1) * stride + 1))
    dilated[::stride, ::stride] = grad_out
    padded = np.pad(dilated, k - 1)
    flipped = kernel[::-1, ::-1]
    reached = (flipped.reshape(-1) @ im2col(padded[None, None], k)[0]).reshape(
        conv_output_size(padded.shape[0], k), conv_output_size(padded.shape[1], k))
    input_grad = np.zeros(input_size)
    input_grad[:reached.shape[0], :reached.shape[1]] = reached
    return FullCorrelation(grad_out, dilated, padded, kernel, flipped, input_grad)


def conv_input_grad(grad_out, kernel, stride, input_size):
    """dL/dx from ``fmcnn.nn.Conv2D.backward`` for one channel, one image and no padding: (H, W)."""
    kernel = np.asarray(kernel, dtype=np.float64)
    layer = Conv2D(1, 1, kernel.shape[0], stride=stride).to(np.float64)
    layer.weight.data = kernel[None, None].copy()
    layer.forward(np.zeros((1, 1, *input_size)))
    return layer.backward(np.asarray(grad_out, dtype=np.float64)[None, None])[0, 0]


def plot_full_correlation(stride=2):
    """dL/dx of a 3x3 convolution of a 5x5 input: dilate G, pad it, correlate with the flipped kernel.

    G holds 1, 2, 3, ... (2 x 2 for ``stride=2``) and K = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]. The
    window of the padded G that gives the centre pixel of dL/dx is outlined, and that pixel's
    sum written out. Raises AssertionError if the result differs from ``fmcnn.nn.Conv2D.backward``.
    Returns the Figure; dL/dx's numbers have gid ``"input_grad"``.
    """
    size, k = 5, 3
    out = conv_output_size(size, k, stride)
    G, K = np.arange(1.0, out * out + 1).reshape(out, out), np.arange(1.0, k * k + 1).reshape(k, k)
    steps = full_correlation(G, K, stride, (size, size))
    assert np.array_equal(steps.input_grad, conv_input_grad(G, K, stride, (size, size)))
    fig, ax = canvas(10, 3.5)
    height = steps.padded.shape[0]
    from_g = np.zeros(steps.dilated.shape, dtype=bool)
    from_g[::stride, ::stride] = True
    shade = tint(GRADIENT, 0.35)
    padding = np.pad(np.zeros(from_g.shape, dtype=bool), k - 1, constant_values=True)
    padded = np.where(padding, None, steps.padded)          # padding drawn as blank grey cells
    panels = [("G = ∂L/∂out", steps.grad_out, np.full(steps.grad_out.shape, shade)),
              (f"dilated (stride {stride}):\n{stride - 1} zero between", steps.dilated, np.where(from_g, shade, None)),
              (f"padded: k − 1 = {k - 1} (grey)", padded,
               np.where(np.pad(from_g, k - 1), shade, np.where(padding, PAPER, None)))]
    left, spots = 0.0, []
    for title, values, fills in panels:
        top = (height - values.shape[0]) / 2
        grid(ax, values, left, top, fills=fills, fmt="{:.0f}", fontsize=FONT - 1)
        ax.text(left + values.shape[1] / 2, top - 0.2, title, ha="center", va="bottom", fontsize=FONT - 1)
        spots.append((left, left + values.shape[1]))
        left += values.shape[1] + 1.5
    centre = size // 2
    outline(ax, spots[-1][0] + centre, centre, k, k, ORANGE)
    for (_, end), (start, _), label in zip(spots, spots[1:], ("dilate", "pad")):
        _step(ax, end, start, height / 2, label)
    ax.text(left - 0.75, height / 2, "⋆", ha="center", va="center", fontsize=FONT + 18, color=INK)
    grid(ax, steps.kernel, left, 0, fmt="{:.0f}", fontsize=FONT - 1)
    ax.text(left + k / 2, -0.2, "kernel K", ha="center", va="bottom", fontsize=FONT - 1)
    grid(ax, steps.flipped, left, height - k, fmt="{:.0f}", fontsize=FONT - 1)
    outline(ax, left, height - k, k, k, ORANGE)
    ax.text(left + k + 0.1, height / 2, "rotated\n180°", ha="left", va="center", fontsize=FONT - 1)
    ax.add_patch(FancyArrowPatch((left + k / 2, k + 0.05), (left + k / 2, height - k - 0.05), arrowstyle="-|>",
                                 mutation_scale=10, color=MUTED, lw=1.2))
    left += k + 3.4
    ax.text(left - 0.6, height / 2, "=", ha="center", va="center", fontsize=FONT + 6, color=INK)
    top = (height - size) / 2
    grid(ax, steps.input_grad, left, top, fmt="{:.0f}", fontsize=FONT - 1, gid="input_grad")
    outline(ax, left + centre, top + centre, 1, 1, ORANGE)
    ax.text(left + size / 2, top - 0.2, "∂L/∂x = Conv2D.backward", ha="center", va="bottom", fontsize=FONT - 1)
    window = steps.padded[centre:centre + k, centre:centre + k]
    terms = [f"{g:.0f}·{w:.0f}" for g, w in zip(window.ravel(), steps.flipped.ravel()) if g]
    ax.text(left + size / 2, top + size + 0.25, f"{' + '.join(terms)} = {steps.input_grad[centre, centre]:.0f}",
            ha="center", va="top", fontsize=FONT - 1, color=INK)
    return fit(fig, ax, -0.2, -0.9, left + size + 0.2, height + 0.2)


def _step(ax, start, end, y, label):
    """A labelled arrow from x = ``start`` to x = ``end`` at height ``y``: one step of the recipe."""
    ax.add_patch(FancyArrowPatch((start + 0.15, y), (end - 0.15, y), arrowstyle="-|>", mutation_scale=10,
                                 color=MUTED, lw=1.2))
    ax.text((start + end) / 2, y - 0.15, label, ha="center", va="bottom", fontsize=FONT - 2, color=INK)
