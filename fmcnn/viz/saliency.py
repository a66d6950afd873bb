"""Gradients as pictures: saliency maps of the input and gradients of every layer."""
import matplotlib.pyplot as plt
import numpy as np

from .filters import color_scale, draw_image
from .record import record

GRADIENT_MODES = {
    "raw": "gradient",
    "abs": "|gradient|",
    "grad_x_input": "gradient x input",
}


def gradient_view(grad, value, mode):
    """What to show of a gradient ``grad`` taken at ``value`` (same shape).

    "raw": the gradient itself, signed: red pixels would raise the objective if
    made larger, blue ones would lower it. "abs": its magnitude, how sensitive
    the objective is to each pixel. "grad_x_input": gradient times value, the
    first-order change of the objective if that value were set to zero.
    """
    if mode == "raw":
        return grad
    if mode == "abs":
        return np.abs(grad)
    if mode == "grad_x_input":
        return grad * value
    raise ValueError(f"mode must be one of {', '.join(GRADIENT_MODES)}, got {mode!r}")


def gradient_norms(recording, i=0):
    """Root-mean-square of the gradient at every layer's output for example ``i``: {name: float}.

    The input is included under the name ``"input"``, so the dict reads from the
    input to the logits.
    """
    norms = {"input": float(np.sqrt(np.mean(np.square(recording.input_grad[i], dtype=np.float64))))}
    norms.update((n, float(np.sqrt(np.mean(np.square(g[i], dtype=np.float64))))) for n, g in recording.grads.items())
    return norms


def plot_saliency(model, x, targets, titles=None, objective="loss", modes=tuple(GRADIENT_MODES), size=1.6):
    """Saliency maps of several images: one row per image, columns input, then one per mode.

    x: (N, 1, H, W) preprocessed inputs; targets: the class of each image the
    objective is computed for (see :func:`fmcnn.viz.record`). Each panel has its
    own color scale, symmetric around zero for signed maps. Returns the Figure.
    """
    rec = record(model, x, targets, objective=objective)
    n = len(x)
    fig, axes = plt.subplots(n, 1 + len(modes), figsize=((1 + len(modes)) * size, n * size * 1.05 + 0.3),
                             squeeze=False, layout="constrained")
    for i in range(n):
        draw_image(axes[i, 0], x[i], title=titles[i] if titles is not None else None)
        for j, mode in enumerate(modes, start=1):
            view = gradient_view(rec.input_grad[i, 0], x[i, 0], mode)
            cmap, vmin, vmax = color_scale(view, signed=mode != "abs")
            axes[i, j].imshow(view, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            axes[i, j].set_xticks([])
            axes[i, j].set_yticks([])
            if i == 0:
                axes[i, j].set_title(GRADIENT_MODES[mode], fontsize=9)
    return fig
