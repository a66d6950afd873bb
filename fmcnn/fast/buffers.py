"""Arrays reused from one training step to the next."""
import numpy as np


def reuse_or_empty(out, shape, dtype):
    """``out`` when it is an array of this shape and dtype (from an earlier call), else a new empty one.

    A fresh large array costs page faults on first touch, which at batch 1000
    (an 80 MB im2col matrix for conv1) took longer than the copy into it.
    """
    if out is None or out.shape != shape or out.dtype != dtype:
        out = np.empty(shape, dtype=dtype)
    return out
