"""im2col and col2im drawn on a tiny image whose pixels are numbered: chapters 4 and 5.

What the pictures show is computed by ``fmcnn.nn`` itself: the im2col matrix is
``fmcnn.nn.im2col`` of the image of pixel indices, and the overlap counts are
``fmcnn.nn.col2im`` of a matrix of ones.
"""
import numpy as np
from matplotlib.patches import FancyArrowPatch

from ...nn import col2im, conv_output_size, im2col
from .style import BLUE, FONT, GRADIENT, INK, ORANGE, canvas, fit, grid, outline, tint


def pixel_columns(size=4, kernel_size=2, stride=1):
    """``fmcnn.nn.im2col`` of a ``size`` x ``size`` image whose pixels hold their own row-major index.

    Returns ints (k*k, Ho*Wo): column j is window j (row-major over the output positions), and
    entry (r, j) is the index of the pixel at offset divmod(r, k) of that window.
    """
    pixels = np.arange(size * size, dtype=np.float64).reshape(1, 1, size, size)
    return im2col(pixels, kernel_size, stride)[0].astype(int)


def overlap_counts(size=4, kernel_size=2, stride=1):
    """``fmcnn.nn.col2im`` of a matrix of ones: how many windows hold each pixel, ints (size, size)."""
    out = conv_output_size(size, kernel_size, stride)
    ones = np.ones((1, kernel_size * kernel_size, out * out))
    return col2im(ones, (1, 1, size, size), kernel_size, stride)[0, 0].astype(int)


def plot_im2col(size=4, kernel_size=2, stride=1, pixel=5):
    """im2col: each window of the image becomes one column of a matrix (fmcnn.nn.im2col's layout).

    Left the image, each pixel showing its index; right ``fmcnn.nn.im2col`` of that image,
    so every entry is the index of the pixel copied there. The first and the last window
    holding ``pixel`` are outlined in the image and as columns; ``pixel`` is shaded wherever
    it was copied. Returns the Figure; the matrix's numbers have gid ``"columns"``.
    """
    cols = pixel_columns(size, kernel_size, stride)
    k, out = kernel_size, conv_output_size(size, kernel_size, stride)
    holding = np.flatnonzero((cols == pixel).any(axis=0))
    fig, ax = canvas(2.2 + 0.55 * (size + cols.shape[1]), 0.9 + 0.55 * max(size, cols.shape[0]))
    shade = tint(GRADIENT, 0.35)
    image = np.arange(size * size).reshape(size, size)
    grid(ax, image, 0, 0, fills=np.where(image == pixel, shade, None), gid="image")
    left = size + 2.2
    grid(ax, cols, left, 0, fills=np.where(cols == pixel, shade, None), gid="columns")
    for window, color, style in zip((holding[0], holding[-1]), (BLUE, ORANGE), ("-", "--")):
        i, j = divmod(window, out)
        outline(ax, j * stride, i * stride, k, k, color, style)
        outline(ax, left + window, 0, 1, k * k, color, style)
    for r in range(k * k):
        ax.text(left - 0.15, r + 0.5, "({}, {})".format(*divmod(r, k)), ha="right", va="center",
                fontsize=FONT - 2, color=INK)
    ax.text(left - 0.15, -0.15, "offset \\ window", ha="right", va="bottom", fontsize=FONT - 2)
    _window_numbers(ax, left, cols.shape[1])
    ax.text(size / 2, -0.35, f"image, {size}×{size} (pixel indices)", ha="center", va="bottom", fontsize=FONT)
    ax.text(left + cols.shape[1] / 2, -0.7, f"fmcnn.nn.im2col, {k}×{k} windows, stride {stride}: "
            "column = window", ha="center", va="bottom", fontsize=FONT)
    bottom = max(size, k * k)
    ax.text(left + cols.shape[1] / 2, bottom + 0.3, f"pixel {pixel} lies in {len(holding)} windows, "
            f"so it is copied into {len(holding)} columns", ha="center", va="top", fontsize=FONT, color=INK)
    return fit(fig, ax, -0.2, -1.3, left + cols.shape[1] + 0.2, bottom + 1.0)


def plot_col2im(size=4, kernel_size=2, stride=1, pixel=5):
    """col2im: every entry of the columns is added back onto the pixel it came from, and overlaps add up.

    Left a matrix of ones in im2col's layout, each entry showing the pixel it belongs to
    (``fmcnn.nn.im2col`` of the pixel indices); right ``fmcnn.nn.col2im`` of the ones: each
    pixel receives one 1 per window that holds it. ``pixel``'s entries and their sum are shaded.
    Returns the Figure; the counts have gid ``"counts"``.
    """
    cols = pixel_columns(size, kernel_size, stride)
    counts = overlap_counts(size, kernel_size, stride)
    k = kernel_size
    fig, ax = canvas(2.2 + 0.55 * (size + cols.shape[1]), 0.9 + 0.55 * max(size, cols.shape[0]))
    shade = tint(GRADIENT, 0.35)
    grid(ax, cols, 0, 0, fills=np.where(cols == pixel, shade, None), gid="sources")
    left = cols.shape[1] + 2.2
    pi, pj = divmod(pixel, size)
    grid(ax, counts, left, 0, fills=[[shade if (i, j) == (pi, pj) else None for j in range(size)]
                                     for i in range(size)], gid="counts")
    middle = max(size, k * k) / 2
    ax.add_patch(FancyArrowPatch((cols.shape[1] + 0.3, middle), (left - 0.3, middle), arrowstyle="-|>",
                                 mutation_scale=14, color=GRADIENT, lw=1.6))
    ax.text(cols.shape[1] + 1.1, middle - 0.2, "add back", ha="center", va="bottom", fontsize=FONT - 1,
            color=GRADIENT)
    ax.text(-0.15, -0.15, "window", ha="right", va="bottom", fontsize=FONT - 2)
    _window_numbers(ax, 0, cols.shape[1])
    ax.text(cols.shape[1] / 2, -0.7, "columns, all ones (shown: the pixel each entry goes back to)",
            ha="center", va="bottom", fontsize=FONT)
    ax.text(left + size / 2, -0.7, "fmcnn.nn.col2im: the sum at each pixel", ha="center", va="bottom",
            fontsize=FONT)
    bottom = max(size, k * k)
    terms = " + ".join(["1"] * counts[pi, pj])
    ax.text(left + size / 2, bottom + 0.3, f"pixel {pixel}: {terms} = {counts[pi, pj]}", ha="center", va="top",
            fontsize=FONT, color=INK)
    return fit(fig, ax, -1.2, -1.3, left + size + 0.2, bottom + 1.0)


def _window_numbers(ax, left, count):
    """Number the columns of a matrix whose left edge is at ``left``: column j holds window j."""
    for window in range(count):
        ax.text(left + window + 0.5, -0.15, str(window), ha="center", va="bottom", fontsize=FONT - 2)
