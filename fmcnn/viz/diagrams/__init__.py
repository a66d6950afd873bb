"""Teaching diagrams, drawn with matplotlib from what ``fmcnn`` itself computes.

One function per picture, each returning a matplotlib Figure (made with pyplot, like the
other ``plot_*`` functions of ``fmcnn.viz``):

- :func:`plot_mlp_graph` (chapter 3) and :func:`plot_batchnorm_graph` (chapter 7):
  computational graphs with the backward message on every edge, checked against the layers;
- :func:`plot_im2col` (chapter 4) and :func:`plot_col2im` (chapter 5): which pixel goes to
  which column and back, from ``fmcnn.nn.im2col`` and ``col2im``;
- :func:`plot_full_correlation` (chapter 5): dL/dx as a full correlation of the dilated
  upstream gradient with the flipped kernel, checked against ``Conv2D.backward``;
- :func:`plot_pooling_tie` (chapter 6): where ``MaxPool2D`` sends gradients on a tie, and
  where the wrong mask rule sends them;
- :func:`plot_lenet` (chapter 8): LeNet-BN's layers and shapes, read from the model.

The computations behind the pictures are public too, so that tests check them apart
from the drawing.
"""
from .correlation import FullCorrelation, conv_input_grad, full_correlation, plot_full_correlation
from .graphs import (batchnorm_messages, check_batchnorm_messages, check_mlp_messages, mlp_messages,
                     plot_batchnorm_graph, plot_mlp_graph)
from .lenet import layer_shapes, plot_lenet, shape_text
from .pooling import plot_pooling_tie, pooling_routes
from .unfold import overlap_counts, pixel_columns, plot_col2im, plot_im2col

__all__ = ["FullCorrelation", "batchnorm_messages", "check_batchnorm_messages", "check_mlp_messages",
           "conv_input_grad", "full_correlation", "layer_shapes", "mlp_messages", "overlap_counts",
           "pixel_columns", "plot_batchnorm_graph", "plot_col2im", "plot_full_correlation", "plot_im2col",
           "plot_lenet", "plot_mlp_graph", "plot_pooling_tie", "pooling_routes", "shape_text"]
