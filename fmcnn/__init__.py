"""fmcnn: a convolutional neural network built from scratch in NumPy, trained on Fashion-MNIST.

Subpackages: ``fmcnn.data`` (loading), ``fmcnn.nn`` (layers), ``fmcnn.optim``
(optimizers and schedules), ``fmcnn.models`` (LeNet-BN), ``fmcnn.train``,
``fmcnn.metrics``, ``fmcnn.checkpoint``, ``fmcnn.gradcheck``, ``fmcnn.viz`` and
``fmcnn.errors`` (``FmcnnError``, the base of every expected error).
"""
__version__ = "0.1.0"
from .exercises import check
