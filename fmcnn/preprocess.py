"""Turning uint8 images into network inputs, and random augmentation of a batch."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

# Fashion-MNIST training-set pixel statistics after scaling to [0, 1] (book chapter 1 computes them).
MEAN, STD = 0.2860, 0.3530


def to_input(images, normalize=True, dtype=np.float32):
    """uint8 images (N, 28, 28) -> float inputs (N, 1, 28, 28).

    Pixels are scaled to [0, 1]; with ``normalize`` they are then standardized
    with the training set's mean and standard deviation, so inputs are centred
    at zero with unit spread, which keeps early gradients well scaled.
    """
    images = np.asarray(images)
    if images.ndim != 3:
        raise ValueError(f"expected images of shape (N, H, W), got {images.shape}")
    if images.dtype != np.uint8:
        raise TypeError(f"expected uint8 images (as loaded by fmcnn.data), got {images.dtype}")
    x = images[:, None].astype(dtype) / dtype(255)
    if normalize:
        x = (x - dtype(MEAN)) / dtype(STD)
    return x


def augment(x, rng, max_shift=2, flip=True):
    """Randomly shift each image by up to ``max_shift`` pixels and mirror half of them.

    x: (N, C, H, W) -> (N, C, H, W), a new array. Shifts fill with the image's
    own border value (the padding value of a normalized black pixel), so a
    shifted garment still sits on its usual background. Garments are roughly
    left-right symmetric, so a mirrored shirt is still a shirt.
    """
    N, C, H, W = x.shape
    s = max_shift
    padded = np.pad(x, ((0, 0), (0, 0), (s, s), (s, s)), mode="edge")
    windows = sliding_window_view(padded, (H, W), axis=(2, 3))        # (N, C, 2s+1, 2s+1, H, W), a view
    dy, dx = rng.integers(0, 2 * s + 1, size=(2, N))
    out = windows[np.arange(N), :, dy, dx]                              # picks one window per image: (N, C, H, W)
    if flip:
        mirror = rng.random(N) < 0.5
        out[mirror] = out[mirror, :, :, ::-1]
    return out
