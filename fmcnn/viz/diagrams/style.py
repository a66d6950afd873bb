"""The shared look of the teaching diagrams: colours, boxes, arrows and grids of numbers.

Every diagram is drawn on one Axes in data units (one unit is one grid cell), with the y
axis pointing down, so that row i of an array is drawn at y = i as it is printed.
Colours come from the Okabe-Ito palette, which stays distinguishable with every common
colour-vision deficiency, and no meaning rests on colour alone: outlines also differ in
line style, and the text says what a colour marks.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_hex, to_rgb
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle

INK = "#222222"
MUTED = "#777777"
GRADIENT = "#D55E00"                 # vermillion: gradients, which flow backwards
BLUE, ORANGE, GREEN, SKY, PURPLE = "#0072B2", "#E69F00", "#009E73", "#56B4E9", "#CC79A7"
PAPER = "#F2F2F2"                    # cells that hold no value of their own (padding)
FONT = 10


def tint(color, amount=0.3):
    """``color`` mixed with white: a fill light enough for black text on it."""
    rgb = np.array(to_rgb(color))
    return to_hex(1 - amount * (1 - rgb))


def canvas(width, height):
    """A new pyplot Figure of ``width`` x ``height`` inches with one frameless Axes, y pointing down."""
    fig, ax = plt.subplots(figsize=(width, height))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ax.invert_yaxis()
    return fig, ax


def fit(fig, ax, left, top, right, bottom):
    """Show the data rectangle [left, right] x [top, bottom] and nothing else; returns ``fig``."""
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)                                   # y points down
    fig.subplots_adjust(left=0.01, right=0.99, top=0.99, bottom=0.01)
    return fig


def grid(ax, values, left, top, fills=None, gid=None, fmt="{:g}", fontsize=FONT, bold=None):
    """Draw a 2-D array as a table of numbered cells with its top-left corner at (left, top).

    ``fills``: an array of colours (or None for white) of the same shape; ``bold``: a boolean
    array marking the entries to emphasize. Each number is a Text whose gid is ``gid``, in
    row-major order, so a test can read the array back from the figure.
    """
    values = np.asarray(values)
    for (i, j), value in np.ndenumerate(values):
        fill = "white" if fills is None or fills[i][j] is None else fills[i][j]
        ax.add_patch(Rectangle((left + j, top + i), 1, 1, facecolor=fill, edgecolor=MUTED, lw=0.6))
        text = "" if value is None else fmt.format(value)
        weight = "bold" if bold is not None and bold[i][j] else "normal"
        ax.text(left + j + 0.5, top + i + 0.5, text, ha="center", va="center", fontsize=fontsize,
                color=INK, weight=weight, gid=gid)


def outline(ax, left, top, width, height, color, linestyle="-"):
    """A thick rectangle around ``width`` x ``height`` cells from (left, top), drawn above the cells."""
    ax.add_patch(Rectangle((left, top), width, height, fill=False, edgecolor=color, lw=2.4,
                           linestyle=linestyle, zorder=3))


def box(ax, x, y, text, width, height=0.6, fill="white", lw=1.0):
    """A rounded box of ``width`` x ``height`` centred at (x, y) holding ``text``; returns its centre and half sizes."""
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0,rounding_size=0.12", facecolor=fill, edgecolor=INK, lw=lw))
    ax.text(x, y, text, ha="center", va="center", fontsize=FONT, color=INK)
    return (x, y, width / 2, height / 2)


def arrow(ax, start, end, color=INK):
    """An arrow from the border of box ``start`` to the border of box ``end`` (boxes as returned by :func:`box`)."""
    ax.add_patch(FancyArrowPatch(_border(start, end), _border(end, start), arrowstyle="-|>", mutation_scale=12,
                                 color=color, lw=1.2, shrinkA=2, shrinkB=2))


def _border(node, towards):
    """Where the line from the centre of box ``node`` to the centre of box ``towards`` leaves ``node``."""
    x, y, half_w, half_h = node
    dx, dy = towards[0] - x, towards[1] - y
    scale = min(half_w / abs(dx) if dx else np.inf, half_h / abs(dy) if dy else np.inf)
    return x + dx * scale, y + dy * scale
