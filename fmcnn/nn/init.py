"""Weight initialization."""
import numpy as np


def he_normal(shape, fan_in, rng, dtype=np.float32):
    """He (Kaiming) normal initialization: N(0, 2 / fan_in).

    With ReLU, half the pre-activations are zeroed, so variance 2 / fan_in keeps
    the activations' scale roughly constant from layer to layer (He et al., 2015).
    """
    rng = np.random.default_rng(rng)
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)
