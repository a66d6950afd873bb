"""LeNet-BN's layers and the shape of the data after each: chapter 8.

The names and shapes are not typed in: :func:`layer_shapes` runs the model on a batch of
zeros in evaluation mode, as ``Sequential.summary`` does, so the picture follows the code.
"""
import numpy as np
from matplotlib.patches import FancyArrowPatch, Rectangle
from matplotlib.path import Path

from ...models import lenet_bn
from .style import BLUE, FONT, GREEN, INK, MUTED, ORANGE, PURPLE, SKY, arrow, box, canvas, fit, tint

KIND_COLORS = {"Conv2D": BLUE, "BatchNorm2D": ORANGE, "ReLU": GREEN, "MaxPool2D": PURPLE, "Flatten": MUTED,
               "Linear": SKY}


def layer_shapes(model, input_shape=(1, 28, 28)):
    """``[(name, type name, output shape of one example)]`` for every layer of a Sequential ``model``.

    Runs one zero example of ``input_shape`` (C, H, W) through the layers in evaluation mode,
    then restores the model's mode.
    """
    was_training = model.training
    model.eval()
    h = np.zeros((1, *input_shape), dtype=np.float32)
    rows = []
    for name, layer in model.named_layers():
        h = layer.forward(h)
        rows.append((name, type(layer).__name__, h.shape[1:]))
    model.train(was_training)
    return rows


def shape_text(shape):
    """(6, 28, 28) -> '6×28×28', (120,) -> '120'."""
    return "×".join(str(n) for n in shape)


def plot_lenet(model=None, per_row=9):
    """The layers of ``model`` (default ``fmcnn.models.lenet_bn()``) as a chain of boxes with their output shapes.

    The input comes first, then ``per_row`` boxes to a line; a box's colour is its layer type
    (the legend ends the last line), and the shape of one example after the layer is written
    under it. Returns the Figure; the shapes are the Texts with gid ``"shape"``, in order,
    the input's first.
    """
    model = lenet_bn() if model is None else model
    rows = [("input", None, (1, 28, 28))] + layer_shapes(model)
    lines = -(-len(rows) // per_row)
    fig, ax = canvas(10, 1.45 * lines + 0.1)
    step, gap, previous = 1.1, 1.45, None
    for n, (name, kind, shape) in enumerate(rows):
        line, place = divmod(n, per_row)
        x, y = place * step, line * gap
        fill = "white" if kind is None else tint(KIND_COLORS[kind], 0.45)
        node = box(ax, x, y, name, width=0.84, height=0.5, fill=fill)
        ax.text(x, y + 0.33, shape_text(shape), ha="center", va="top", fontsize=FONT - 1, color=INK,
                gid="shape")
        if place:
            arrow(ax, previous, node, color=MUTED)
        elif previous is not None:                  # back to the start of the next line, between the lines
            right, middle = previous[0] + 0.55, y - gap / 2 + 0.15
            ax.add_patch(FancyArrowPatch(path=Path([(previous[0] + 0.4, previous[1]), (right, previous[1]),
                                                    (right, middle), (-0.55, middle), (-0.55, y), (-0.42, y)]),
                                         arrowstyle="-|>", mutation_scale=12, color=MUTED, lw=1.2))
        previous = node
    kinds = list(dict.fromkeys(kind for _, kind, _ in rows[1:]))
    x0 = (len(rows) - 1) % per_row * step + 1.0
    for i, kind in enumerate(kinds):
        x, y = x0 + i // 3 * 1.6, (lines - 1) * gap - 0.35 + i % 3 * 0.35
        ax.add_patch(Rectangle((x, y - 0.1), 0.2, 0.2, facecolor=tint(KIND_COLORS[kind], 0.45), edgecolor=INK, lw=0.8))
        ax.text(x + 0.3, y, kind, ha="left", va="center", fontsize=FONT - 1, color=INK)
    return fit(fig, ax, -0.65, -0.4, (per_row - 1) * step + 0.65, (lines - 1) * gap + 0.7)
