"""Matplotlib figures shared by the command line, the book and the explorers."""
import matplotlib.pyplot as plt
import numpy as np


def smooth(values, window=100):
    """Trailing moving average over ``window`` points (shorter at the start): (N,) -> (N,)."""
    values = np.asarray(values, dtype=np.float64)
    c = np.cumsum(np.insert(values, 0, 0.0))
    i = np.arange(1, len(values) + 1)
    lo = np.maximum(i - window, 0)
    return (c[i] - c[lo]) / (i - lo)


def plot_curves(log, window=100, title="Training curves"):
    """Loss and batch accuracy per step, raw (faint) and smoothed. ``log``: dict with
    "step", "loss", "accuracy" arrays (as from fmcnn.train). Returns the Figure."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, key, label in ((axes[0], "loss", "cross-entropy loss"), (axes[1], "accuracy", "batch accuracy")):
        ax.plot(log["step"], log[key], alpha=0.25, lw=0.8, label="per step")
        ax.plot(log["step"], smooth(log[key], window), lw=2, label=f"moving average ({window} steps)")
        ax.set_xlabel("training step")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    axes[0].set_title("Loss")
    axes[1].set_title("Accuracy on the training batch")
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, class_names, title="Confusion matrix", normalize=False):
    """Heat map of a (K, K) confusion matrix with class names and counts. Returns the Figure."""
    cm = np.asarray(cm)
    shown = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    fig, ax = plt.subplots(figsize=(8, 7))
    im = ax.imshow(shown, cmap="Blues")
    k = len(class_names)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    threshold = shown.max() / 2
    for i in range(k):
        for j in range(k):
            text = f"{shown[i, j]:.2f}" if normalize else str(cm[i, j])
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if shown[i, j] > threshold else "black")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    return fig


def image_grid(images, titles=None, ncols=10, cmap="gray_r", size=1.2):
    """Show images (N, H, W) in a grid, each with an optional title. Returns the Figure."""
    n = len(images)
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(ncols * size, nrows * size * 1.15), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=7)
    fig.tight_layout()
    return fig
