"""Figures: training curves, confusion matrices, image grids, filters, feature maps,
gradients, and the notebook explorers (``fmcnn.viz.explorers``, which need ipywidgets)."""
from .filters import (color_scale, draw_filters, draw_image, draw_maps, draw_probabilities, plot_feature_maps,
                      plot_filters, plot_layer_overview)
from .plots import image_grid, plot_confusion_matrix, plot_curves, smooth
from .record import Recording, record, softmax
from .saliency import GRADIENT_MODES, gradient_norms, gradient_view, plot_saliency
from .static import fig_to_png

__all__ = ["GRADIENT_MODES", "Recording", "color_scale", "draw_filters", "draw_image",
           "draw_maps", "draw_probabilities", "fig_to_png", "gradient_norms", "gradient_view", "image_grid",
           "plot_confusion_matrix", "plot_curves", "plot_feature_maps", "plot_filters", "plot_layer_overview",
           "plot_saliency", "record", "smooth", "softmax"]
