"""Figures of what a CNN computes: conv filters, feature maps, class probabilities.

Each ``draw_*`` function draws on a matplotlib Axes it is
given; each ``plot_*`` function makes a new pyplot figure, calls the matching
``draw_*`` and returns the Figure. The notebook explorers use the ``draw_*``
functions on figures that are not managed by pyplot (so they are never shown
twice), the book and the command line use the ``plot_*`` functions: one
implementation of every picture.
"""
import matplotlib.pyplot as plt
import numpy as np

SIGNED_CMAP = "RdBu_r"     # negative blue, zero white, positive red
UNSIGNED_CMAP = "viridis"  # for maps that cannot be negative (after ReLU or max pooling)
IMAGE_CMAP = "gray_r"      # garments: dark ink on white, as in the rest of the book


def color_scale(values, signed=None):
    """Colormap and limits shared by a set of maps: ``(cmap, vmin, vmax)``.

    Signed values (``signed=None`` decides from the data) get a diverging
    colormap centred at zero, so white always means 0; non-negative values get
    a sequential colormap from 0 to their maximum.
    """
    values = np.asarray(values)
    if signed is None:
        signed = bool(values.size) and float(values.min()) < 0
    top = float(np.abs(values).max()) if values.size else 0.0
    top = top if top > 0 else 1.0
    return (SIGNED_CMAP, -top, top) if signed else (UNSIGNED_CMAP, 0.0, top)


def grid_shape(n, ncols=None):
    """(rows, cols) of a grid holding ``n`` panels, at most ``ncols`` per row (default 8)."""
    ncols = min(n, ncols or 8) if n else 1
    return max(1, -(-n // ncols)), ncols


def mosaic(tiles, ncols=None, pad=1):
    """Tile images (n, h, w) into one array, row by row, ``pad`` pixels of NaN between them.

    Drawing one mosaic is much faster than drawing one small axes per channel,
    which keeps the explorers quick. Returns ``(array, (rows, cols))``.
    """
    tiles = np.asarray(tiles, dtype=np.float64)
    n, h, w = tiles.shape
    rows, cols = grid_shape(n, ncols)
    out = np.full((rows * (h + pad) - pad, cols * (w + pad) - pad), np.nan)
    for i in range(n):
        r, c = divmod(i, cols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = tiles[i]
    return out, (rows, cols)


def _show(ax, array, scale):
    cmap, vmin, vmax = scale
    cmap = plt.get_cmap(cmap).with_extremes(bad="white")
    im = ax.imshow(array, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_visible(False)
    return im


def draw_maps(ax, maps, ncols=8, title=None, signed=None, scale=None, labels=True, label_size=7):
    """Draw every channel of ``maps`` on one Axes ``ax``.

    maps: (C, H, W): one tile per channel in a mosaic of at most ``ncols`` columns,
    numbered in their top-left corner, all with one shared color scale (white
    is 0 for signed maps; pass ``scale=(cmap, vmin, vmax)`` to impose one); or
    (D,), a vector such as the output of a fully connected layer, drawn as bars.
    Returns the image (or the bar container).
    """
    maps = np.asarray(maps, dtype=np.float64)
    if maps.ndim == 1:
        colors = np.where(maps >= 0, "#c0392b", "#2e6db4")
        bars = ax.bar(np.arange(len(maps)), maps, color=colors, width=1.0)
        ax.axhline(0, color="black", lw=0.6)
        ax.set_xlim(-0.5, len(maps) - 0.5)
        ax.set_xlabel(f"unit (of {len(maps)})", fontsize=label_size + 1)
        ax.tick_params(labelsize=label_size)
        if title:
            ax.set_title(title, fontsize=label_size + 2)
        return bars
    if maps.ndim != 3:
        raise ValueError(f"expected maps of shape (C, H, W) or (D,), got {maps.shape}")
    C, H, W = maps.shape
    pad = max(1, H // 6)
    array, (rows, cols) = mosaic(maps, ncols, pad)
    im = _show(ax, array, scale or color_scale(maps, signed))
    if labels:
        for c in range(C):
            r, q = divmod(c, cols)
            ax.text(q * (W + pad) - 0.5, r * (H + pad) - 0.5, str(c), fontsize=label_size - 1, ha="left",
                    va="top", color="#333333")
    if title:
        ax.set_title(title, fontsize=label_size + 2)
    return im


def draw_filters(ax, weight, title=None, ncols=8, label_size=7):
    """Draw the filters of a conv layer, weight (O, C, k, k), on one Axes with one symmetric color scale.

    With one input channel (conv1) each filter is one k x k tile; with several
    (conv2) filter ``o`` is column ``o`` and its part for input channel ``c`` is row ``c``.
    """
    weight = np.asarray(weight, dtype=np.float64)
    if weight.ndim != 4:
        raise ValueError(f"expected conv weights (O, C, k, k), got shape {weight.shape}")
    O, C, k, _ = weight.shape
    scale = color_scale(weight, signed=True)
    if C == 1:
        return draw_maps(ax, weight[:, 0], ncols=ncols, title=title, scale=scale, label_size=label_size)
    array, _ = mosaic(weight.transpose(1, 0, 2, 3).reshape(C * O, k, k), ncols=O, pad=1)
    im = _show(ax, array, scale)
    ax.set_xticks(np.arange(O) * (k + 1) + (k - 1) / 2, [str(o) for o in range(O)], fontsize=label_size)
    ax.set_yticks(np.arange(C) * (k + 1) + (k - 1) / 2, [f"in {c}" for c in range(C)], fontsize=label_size)
    ax.set_xlabel("filter", fontsize=label_size + 1)
    ax.tick_params(length=0)
    if title:
        ax.set_title(title, fontsize=label_size + 2)
    return im


def draw_image(ax, image, title=None, cmap=IMAGE_CMAP, signed=False, label_size=8):
    """Show one image (H, W) (or (1, H, W)) on ``ax`` without ticks."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image[0]
    if signed:
        cmap, vmin, vmax = color_scale(image, signed=True)
        ax.imshow(image, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    else:
        ax.imshow(image, cmap=cmap, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=label_size)
    return ax


def draw_probabilities(ax, probs, class_names, true_class=None, label_size=8):
    """Horizontal bars of the class probabilities: the predicted class in red, the true class outlined."""
    probs = np.asarray(probs, dtype=np.float64)
    pred = int(probs.argmax())
    colors = ["#c0392b" if k == pred else "#9aa5b1" for k in range(len(probs))]
    bars = ax.barh(np.arange(len(probs)), probs, color=colors)
    if true_class is not None:
        bars[int(true_class)].set_edgecolor("black")
        bars[int(true_class)].set_linewidth(1.5)
    ax.set_yticks(np.arange(len(probs)), class_names, fontsize=label_size)
    ax.invert_yaxis()
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability", fontsize=label_size)
    ax.tick_params(axis="x", labelsize=label_size - 1)
    for k, p in enumerate(probs):
        if p >= 0.01:
            ax.text(min(p + 0.02, 0.8), k, f"{p:.0%}", va="center", fontsize=label_size - 1)
    return ax


def plot_filters(weight, title=None, ncols=8, size=0.9):
    """New figure with the filters of a conv layer (see :func:`draw_filters`). Returns the Figure."""
    O, C = np.shape(weight)[:2]
    rows, cols = (C, O) if C > 1 else grid_shape(O, ncols)
    fig, ax = plt.subplots(figsize=(max(cols * size * (0.7 if C > 1 else 1) + (0.8 if C > 1 else 0), 3),
                                    rows * size * (0.7 if C > 1 else 1) + 0.6), layout="constrained")
    draw_filters(ax, weight, title=title, ncols=ncols)
    return fig


def plot_feature_maps(maps, title=None, ncols=8, size=1.2):
    """New figure with every channel of ``maps`` (C, H, W), or a vector (D,) (see :func:`draw_maps`).
    Returns the Figure."""
    maps = np.asarray(maps)
    rows, cols = grid_shape(len(maps), ncols) if maps.ndim == 3 else (2.5, 6)
    fig, ax = plt.subplots(figsize=(max(cols * size, 3), rows * size + 0.5), layout="constrained")
    draw_maps(ax, maps, ncols=ncols, title=title)
    return fig


def plot_layer_overview(recording, i=0, layers=None, max_channels=8, input_title="input", size=1.1):
    """One row per layer: the first ``max_channels`` feature maps of example ``i`` (each row
    with its own shared color scale), and the input image on the left.

    ``recording`` comes from :func:`fmcnn.viz.record`; ``layers`` defaults to every
    layer whose output is a stack of maps (conv1 ... pool2). Returns the Figure.
    """
    if layers is None:
        layers = [n for n in recording.names if recording.activations[n].ndim == 4]
    fig, axes = plt.subplots(len(layers), 2, figsize=((max_channels + 1.5) * size, len(layers) * size + 0.3),
                             width_ratios=[1.4, max_channels], layout="constrained", squeeze=False)
    gs = axes[0, 0].get_gridspec()
    for ax in axes[:, 0]:
        ax.remove()
    draw_image(fig.add_subplot(gs[:, 0]), recording.input[i], title=input_title)
    for ax, name in zip(axes[:, 1], layers):
        maps = recording.activations[name][i][:max_channels]
        draw_maps(ax, maps, ncols=max_channels)
        ax.set_ylabel(f"{name}\n{maps.shape[1]}x{maps.shape[2]}", fontsize=8, rotation=0, ha="right", va="center")
    return fig
