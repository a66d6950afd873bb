"""Interactive explorers, each a single call in a notebook.

    from fmcnn.viz.explorers import FeatureMapExplorer
    FeatureMapExplorer(model, test_images, test_labels)      # the last line of a cell shows it

Every explorer keeps its settings in ``explorer.state`` (a dict) and draws them
with ``explorer.draw(**state)``, which returns a matplotlib Figure and needs no
browser. Its widget shows the same pictures in two ways. When it is displayed, it
draws the picture of every combination of a discrete set of settings in advance
(``precomputed``): they go into the notebook's saved widget state, and its controls
switch between them with ipywidgets' own links in the browser, so they work in the
static web book, with no Python behind the page. Most explorers also have a *live*
mode, in which Python draws any setting (any image, any value) through
``explorer.update(**changes)``, in Jupyter.

The modules: ``base`` (the :class:`Explorer` base class and the pieces explorers
share), ``precomputed`` (the pictures drawn in advance and their links),
``feature_maps``, ``gradients``, ``training``, ``playground``, ``conv_backward``,
``max_pool``, ``batchnorm`` (one explorer each) and ``presets`` (the playground's
preset kernels).
"""
from .base import Explorer, new_figure   # new_figure: importable from here as from the old single module
from .batchnorm import BatchNormExplorer
from .conv_backward import ConvBackwardExplorer
from .feature_maps import FeatureMapExplorer
from .gradients import GradientExplorer
from .max_pool import MaxPoolExplorer
from .playground import ConvPlayground, correlate_same
from .precomputed import Choice
from .presets import PRESET_KERNELS, preset_kernel
from .training import TrainingExplorer

__all__ = ["BatchNormExplorer", "Choice", "ConvBackwardExplorer", "ConvPlayground", "Explorer", "FeatureMapExplorer",
           "GradientExplorer", "MaxPoolExplorer", "TrainingExplorer", "PRESET_KERNELS", "preset_kernel",
           "correlate_same"]
