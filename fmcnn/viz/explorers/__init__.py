"""Interactive explorers of a trained network, each a single call in a notebook.

    from fmcnn.viz.explorers import FeatureMapExplorer
    FeatureMapExplorer(model, test_images, test_labels)      # the last line of a cell shows it

Every explorer keeps its settings in ``explorer.state`` (a dict) and draws them
with ``explorer.draw(**state)``, which returns a matplotlib Figure and needs no
browser; the ipywidgets controls only call ``explorer.update(**changes)``,
which redraws and puts the picture (a PNG) into an ``ipywidgets.Image``. So the
same code runs in a live notebook, in tests, and when the book is built: the
saved widget state holds the initial picture, which a static page shows with no
kernel. ``explorer.animation(key, values)`` draws what the controls would show
for several values of one setting as a playable HTML animation, which the
static book also shows.

The modules: ``base`` (the :class:`Explorer` base class and the pieces explorers
share), ``feature_maps``, ``gradients``, ``training``, ``playground`` (one explorer
each) and ``presets`` (the playground's preset kernels).
"""
from .base import Explorer, new_figure   # new_figure: importable from here as from the old single module
from .feature_maps import FeatureMapExplorer
from .gradients import GradientExplorer
from .playground import ConvPlayground, correlate_same
from .presets import PRESET_KERNELS, preset_kernel
from .training import TrainingExplorer

__all__ = ["ConvPlayground", "Explorer", "FeatureMapExplorer", "GradientExplorer", "TrainingExplorer",
           "PRESET_KERNELS", "preset_kernel", "correlate_same"]
