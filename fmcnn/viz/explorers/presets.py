"""The convolution playground's preset kernels (identity, blurs, sharpen, edges, ...), 3x3 or 5x5."""
import numpy as np

KERNEL_SIZES = (3, 5)
"""The sides a preset kernel (and the playground's kernel) can have."""


def check_kernel_size(kernel_size):
    """Raise a ValueError unless ``kernel_size`` is one of :data:`KERNEL_SIZES`."""
    if kernel_size not in KERNEL_SIZES:
        raise ValueError(f"size must be 3 or 5, got {kernel_size}")


def _sobel(kernel_size):
    smooth = np.array([1.0, 2, 1]) if kernel_size == 3 else np.array([1.0, 4, 6, 4, 1])
    deriv = np.array([-1.0, 0, 1]) if kernel_size == 3 else np.array([-1.0, -2, 0, 2, 1])
    return np.outer(smooth, deriv) / (4 if kernel_size == 3 else 24)


def _gaussian(kernel_size):
    row = np.array([1.0, 2, 1]) if kernel_size == 3 else np.array([1.0, 4, 6, 4, 1])
    g = np.outer(row, row)
    return g / g.sum()


def _identity(kernel_size):
    k = np.zeros((kernel_size, kernel_size))
    k[kernel_size // 2, kernel_size // 2] = 1
    return k


PRESET_KERNELS = {
    "identity": _identity,
    "box blur": lambda k: np.full((k, k), 1.0 / (k * k)),
    "gaussian blur": _gaussian,
    "sharpen": lambda k: 2 * _identity(k) - _gaussian(k),
    "vertical edges": _sobel,
    "horizontal edges": lambda k: _sobel(k).T,
    "outline": lambda k: np.where(_identity(k) > 0, k * k - 1.0, -1.0),
    "emboss": lambda k: np.sign(np.add.outer(np.arange(k), np.arange(k)) - (k - 1)) + _identity(k),
}
"""Preset kernels by name; each maps a kernel size (3 or 5) to a (size, size) array."""


def preset_kernel(name, kernel_size=3):
    """The preset kernel ``name`` (a key of :data:`PRESET_KERNELS`), ``kernel_size`` (3 or 5)
    on a side: a new (kernel_size, kernel_size) array."""
    if name not in PRESET_KERNELS:
        raise ValueError(f"no preset {name!r}; presets: {', '.join(PRESET_KERNELS)}")
    check_kernel_size(kernel_size)
    return np.array(PRESET_KERNELS[name](kernel_size), dtype=np.float64)
