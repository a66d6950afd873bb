"""fmcnn: a convolutional neural network built from scratch in NumPy, trained on Fashion-MNIST.

Subpackages: ``fmcnn.data`` (loading), ``fmcnn.nn`` (layers), ``fmcnn.optim``
(optimizers and schedules), ``fmcnn.models`` (LeNet-BN), ``fmcnn.train``,
``fmcnn.metrics``, ``fmcnn.checkpoint``, ``fmcnn.gradcheck``, ``fmcnn.viz`` and
``fmcnn.errors`` (``FmcnnError``, the base of every expected error).
"""
__version__ = "0.1.0"


def __getattr__(name):
    """``fmcnn.check``, the notebooks' exercise checker, imported on first use (PEP 562), so that
    ``import fmcnn.nn`` does not load the exercise registry, cases and reference solutions."""
    if name == "check":
        from .exercises import check
        globals()["check"] = check   # later look-ups find it directly
        return check
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted({*globals(), "check"})
