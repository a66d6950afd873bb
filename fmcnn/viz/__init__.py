"""Figures: training curves, confusion matrices, image grids (and the notebook explorers)."""
from .plots import image_grid, plot_confusion_matrix, plot_curves, smooth

__all__ = ["image_grid", "plot_confusion_matrix", "plot_curves", "smooth"]
