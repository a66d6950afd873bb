"""Per-image, per-channel sums as BLAS products: the sums BatchNorm needs, several times faster
than ``x.sum(axis=(2, 3))`` here."""
import numpy as np


def image_channel_sums(x):
    """Sum of x: (N, C, H, W) over H and W, image by image: (N, C), as a matrix-vector product with ones."""
    N, C = x.shape[:2]
    return x.reshape(N, C, -1) @ np.ones(x[0, 0].size, dtype=x.dtype)


def image_sums_of_squares(x):
    """Sum of x**2 over H and W, image by image: (N, C), as dot products of each map with itself (no temporary)."""
    N, C = x.shape[:2]
    rows = x.reshape(N, C, 1, -1)
    return (rows @ rows.transpose(0, 1, 3, 2)).reshape(N, C)
