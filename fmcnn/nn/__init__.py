"""Layers of the course network, each in its own file."""
from .activation import ReLU
from .batchnorm import BatchNorm2D
from .conv import Conv2D, col2im, conv_output_size, im2col
from .flatten import Flatten
from .linear import Linear
from .loss import SoftmaxCrossEntropy, softmax
from .module import Module, Parameter
from .pool import MaxPool2D
from .sequential import Sequential

__all__ = ["BatchNorm2D", "Conv2D", "Flatten", "Linear", "MaxPool2D", "Module", "Parameter", "ReLU",
           "Sequential", "SoftmaxCrossEntropy", "col2im", "softmax", "conv_output_size", "im2col"]
