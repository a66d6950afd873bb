"""Draw the book's logo and cover from real Fashion-MNIST images and fmcnn's own layers.

    python book/make_cover.py          # writes book/images/logo.png and book/images/cover.png

Both pictures show what the course builds: garments from the training set go
through an fmcnn ``Conv2D`` (six hand-made 5x5 edge and blob detectors, so the
result does not depend on training), a ``ReLU`` and a ``MaxPool2D``. The output
is deterministic: the same data and code give the same PNGs.
"""
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fmcnn.data import CLASS_NAMES, load_fashion_mnist  # noqa: E402
from fmcnn.nn import Conv2D, MaxPool2D, ReLU, Sequential  # noqa: E402

OUT = Path(__file__).resolve().parent / "images"
# Named after what lights up: the garment is bright (high values) and the background dark.
FILTER_NAMES = ("bottom edges", "top edges", "right edges", "left edges", "diagonal lines", "blobs")


def hand_made_filters():
    """Six zero-mean 5x5 filters: four oriented edges, a diagonal line, a centre-surround blob.

    Shape (6, 1, 5, 5), the layout of ``Conv2D.weight`` (out_channels, in_channels, k, k).
    """
    ramp = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    smooth = np.array([1.0, 2.0, 3.0, 2.0, 1.0]) / 9
    horizontal = np.outer(-ramp, smooth)           # responds to bright above dark
    vertical = horizontal.T
    i, j = np.mgrid[-2:3, -2:3]
    diagonal = np.clip(1.5 - np.abs(i - j), 0, None)
    diagonal = diagonal - diagonal.mean()
    blob = np.exp(-(i**2 + j**2) / 2.0)
    blob = blob - blob.mean()
    filters = np.stack([horizontal, -horizontal, vertical, -vertical, diagonal, blob])
    filters /= np.abs(filters).sum(axis=(1, 2), keepdims=True)
    return filters[:, None].astype(np.float32)


def feature_extractor():
    """conv (1 -> 6, 5x5, padding 2) -> ReLU -> 2x2 max-pool, built from fmcnn layers."""
    conv = Conv2D(1, 6, 5, padding=2, rng=0)
    conv.weight.data[...] = hand_made_filters()
    conv.bias.data[...] = 0
    return Sequential(conv, ReLU(), MaxPool2D(2)).eval()


def one_per_class(images, labels):
    """The first training image of every class, in class order: (10, 28, 28) uint8."""
    return np.stack([images[np.flatnonzero(labels == k)[0]] for k in range(len(CLASS_NAMES))])


def normalize(images):
    """uint8 (N, 28, 28) -> float32 (N, 1, 28, 28) in [0, 1]. Unlike the course's mean/std
    normalization this keeps the background at 0, the value of Conv2D's zero padding,
    so the image border draws no edges."""
    return (images.astype(np.float32) / 255)[:, None]


def draw_logo(samples, model, path):
    """Two rows of five garments, each beside its pooled feature map, over the name 'fmcnn'."""
    maps = model.forward(normalize(samples))                      # (10, 6, 14, 14)
    fig = plt.figure(figsize=(4.0, 1.5), dpi=150)
    grid = fig.add_gridspec(3, 10, height_ratios=[1, 1, 1.3], hspace=0.06, wspace=0.06,
                            left=0.02, right=0.98, top=0.98, bottom=0.02)
    for k in range(10):
        row, col = divmod(k, 5)
        ax_img = fig.add_subplot(grid[row, 2 * col])
        ax_img.imshow(samples[k], cmap="gray_r", vmin=0, vmax=255)
        ax_map = fig.add_subplot(grid[row, 2 * col + 1])
        ax_map.imshow(maps[k, k % 6], cmap="magma")
        for ax in (ax_img, ax_map):
            ax.set_axis_off()
    ax_text = fig.add_subplot(grid[2, :])
    ax_text.set_axis_off()
    ax_text.text(0.5, 0.58, "fmcnn", ha="center", va="center", fontsize=30,
                 fontweight="bold", family="DejaVu Sans Mono", color="#1f3b57")
    ax_text.text(0.5, 0.08, "a CNN from scratch in NumPy", ha="center", va="center",
                 fontsize=8.5, color="#444444")
    fig.savefig(path, facecolor="white", metadata={"Software": None})
    plt.close(fig)


def draw_cover(samples, model, path):
    """Top: one garment through conv -> ReLU -> pool. Bottom: one example of each class."""
    boot = samples[9:10]
    conv, relu, pool = model
    x = normalize(boot)
    conv_out = relu.forward(conv.forward(x))[0]                  # (6, 28, 28)
    pooled = pool.forward(conv_out[None])[0]                       # (6, 14, 14)

    fig = plt.figure(figsize=(10, 4.6), dpi=120)
    outer = fig.add_gridspec(2, 1, height_ratios=[1.6, 1], hspace=0.12,
                             left=0.02, right=0.98, top=0.9, bottom=0.02)
    top = outer[0].subgridspec(2, 10, width_ratios=[2.2, 0.5, 1, 1, 1, 0.5, 1, 1, 1, 0.05],
                               wspace=0.08, hspace=0.25)
    ax = fig.add_subplot(top[:, 0])
    ax.imshow(boot[0], cmap="gray_r", vmin=0, vmax=255)
    ax.set_title("input: 28 x 28", fontsize=10)
    ax.set_axis_off()
    for col, text in ((1, "Conv2D\n+ ReLU\n\u2192"), (5, "MaxPool2D\n\u2192")):
        ax = fig.add_subplot(top[:, col])
        ax.set_axis_off()
        ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10)
    for c in range(6):
        r, cc = divmod(c, 3)
        ax = fig.add_subplot(top[r, 2 + cc])
        ax.imshow(conv_out[c], cmap="magma")
        ax.set_title(FILTER_NAMES[c], fontsize=8)
        ax.set_axis_off()
        ax = fig.add_subplot(top[r, 6 + cc])
        ax.imshow(pooled[c], cmap="magma")
        ax.set_title("14 x 14", fontsize=8)
        ax.set_axis_off()
    bottom = outer[1].subgridspec(1, 10, wspace=0.1)
    for k in range(10):
        ax = fig.add_subplot(bottom[0, k])
        ax.imshow(samples[k], cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(CLASS_NAMES[k], fontsize=9)
        ax.set_axis_off()
    fig.suptitle("Fashion-MNIST CNN from scratch: every layer written in NumPy", fontsize=14,
                 fontweight="bold", color="#1f3b57")
    fig.savefig(path, facecolor="white", metadata={"Software": None})
    plt.close(fig)


def main():
    OUT.mkdir(exist_ok=True)
    images, labels = load_fashion_mnist("train")
    samples = one_per_class(images, labels)
    model = feature_extractor()
    draw_logo(samples, model, OUT / "logo.png")
    draw_cover(samples, model, OUT / "cover.png")
    print(f"wrote {OUT / 'logo.png'} and {OUT / 'cover.png'}")


if __name__ == "__main__":
    main()
