"""Slow, obviously-correct loop versions of the layers, to test the vectorized ones against."""
import numpy as np


def conv_naive(x, w, b, stride, padding):
    N, C, H, W = x.shape
    O, _, k, _ = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    Ho = (H + 2 * padding - k) // stride + 1
    Wo = (W + 2 * padding - k) // stride + 1
    out = np.zeros((N, O, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for o in range(O):
            for i in range(Ho):
                for j in range(Wo):
                    patch = xp[n, :, i * stride:i * stride + k, j * stride:j * stride + k]
                    out[n, o, i, j] = np.sum(patch * w[o]) + b[o]
    return out


def maxpool_naive(x, k, stride):
    N, C, H, W = x.shape
    Ho, Wo = (H - k) // stride + 1, (W - k) // stride + 1
    out = np.zeros((N, C, Ho, Wo), dtype=x.dtype)
    for n in range(N):
        for c in range(C):
            for i in range(Ho):
                for j in range(Wo):
                    out[n, c, i, j] = x[n, c, i * stride:i * stride + k, j * stride:j * stride + k].max()
    return out
