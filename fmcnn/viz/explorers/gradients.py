"""GradientExplorer: the saliency map of one test image and the gradient at a chosen layer."""
import numpy as np
from matplotlib.ticker import MaxNLocator

from ...data import CLASS_NAMES
from ...preprocess import to_input
from ..filters import draw_image, draw_maps
from ..record import record
from ..saliency import GRADIENT_MODES, gradient_norms, gradient_view
from .base import ImageExplorer, check_layer, checked_layers, layer_choice, layer_dropdown, show_array, suptitle
from .precomputed import Choice

OBJECTIVES = (("loss", "loss"), ("class score", "score"))
MODES = tuple((label, mode) for mode, label in GRADIENT_MODES.items())
"""The options of the objective and display controls: (label, setting)."""


class GradientExplorer(ImageExplorer):
    """Gradients for one image: the saliency map d objective / d input, and the gradient at
    every channel of a chosen layer, as raw values, absolute values or gradient x input.

    Settings: ``cls``, ``index`` (the image), ``target`` (the class the objective is
    computed for; -1 means the image's true class), ``objective`` ("loss": the
    cross-entropy loss of the target class, or "score": its logit), ``mode``
    ("raw", "abs", "grad_x_input") and ``layer``.

    The six settings have too many combinations to draw them all in advance. The
    precomputed pictures are those of the first image shown of every class (image
    ``index``): for the loss of its true class, every display at every layer of
    ``precomputed_layers``; and for the first class shown, also every target and objective,
    in every display, at the first layer shown. Live mode draws any combination.
    """

    figsize = (11, 3.8)
    live_note = "other combinations of image, target, objective, display and layer"

    def __init__(self, model, images, labels, cls=0, index=0, target=-1, objective="loss", mode="raw",
                 layer="conv1", class_names=CLASS_NAMES, normalize=True,
                 precomputed_layers=("conv1", "pool2")):
        self.model = model
        self._init_images(images, labels, class_names, normalize)
        super().__init__(cls=cls, index=index, target=target, objective=objective, mode=mode, layer=layer)
        self.first = dict(self.state)
        self.precomputed_layers = checked_layers(model, precomputed_layers, self.state["layer"])

    @property
    def precomputed_note(self):
        first = self.first
        return (f"every class, display and layer for the loss of the true class, and every target and "
                f"objective for the {self.class_names[first['cls']]} at layer {first['layer']}.")

    def precomputed_choices(self):
        return self._image_choices(1) + [Choice("target", "target", tuple(self._target_options())),
                                         Choice("objective", "objective", OBJECTIVES, "buttons"),
                                         Choice("mode", "show", MODES, "buttons"),
                                         layer_choice(self.precomputed_layers)]

    def is_precomputed(self, settings):
        true_class_loss = settings["target"] == -1 and settings["objective"] == "loss"
        first_image = settings["cls"] == self.first["cls"] and settings["layer"] == self.first["layer"]
        return true_class_loss or first_image

    def _target_options(self):
        return [("true class", -1)] + [(n, k) for k, n in enumerate(self.class_names)]

    def _clean(self, state):
        state = self._clean_image(state)
        state["target"] = int(state["target"])
        if not -1 <= state["target"] < len(self.class_names):
            raise ValueError(f"target must be -1 (the true class) or a class index, got {state['target']}")
        if state["objective"] not in ("loss", "score"):
            raise ValueError(f"objective must be 'loss' or 'score', got {state['objective']!r}")
        if state["mode"] not in GRADIENT_MODES:
            raise ValueError(f"mode must be one of {', '.join(GRADIENT_MODES)}, got {state['mode']!r}")
        check_layer(self.model, state["layer"])
        return state

    def recording(self, cls, index, target, objective):
        """The :func:`fmcnn.viz.record` (forward and backward) of one image."""
        n = self.image_number(cls, index)
        x = to_input(self.images[n:n + 1], self.normalize)
        return record(self.model, x, targets=cls if target < 0 else target, objective=objective)

    def _draw_into(self, fig, cls, index, target, objective, mode, layer):
        rec = self.recording(cls, index, target, objective)
        n = self.image_number(cls, index)
        t = int(rec.targets[0])
        a1, a2 = fig.add_axes((0.01, 0.47, 0.14, 0.36)), fig.add_axes((0.01, 0.02, 0.14, 0.36))
        draw_image(a1, self.images[n], title=f"test image {n}: {self.class_names[cls]}", label_size=8)
        saliency = gradient_view(rec.input_grad[0, 0], rec.input[0, 0], mode)
        show_array(a2, saliency, f"saliency: {GRADIENT_MODES[mode]}\nwith respect to the input", 8,
                   signed=mode != "abs")
        grads = gradient_view(rec.grads[layer][0], rec.activations[layer][0], mode)
        ax = fig.add_axes((0.18, 0.13 if grads.ndim == 1 else 0.03, 0.54, 0.72 if grads.ndim == 1 else 0.8))
        draw_maps(ax, grads, ncols=8, signed=mode != "abs",
                  title=f"{GRADIENT_MODES[mode]} at the output of {layer}")
        ax = fig.add_axes((0.82, 0.08, 0.17, 0.77))
        norms = gradient_norms(rec)
        names = list(norms)
        ax.barh(np.arange(len(names)), list(norms.values()),
                color=["#c0392b" if nm == layer else "#9aa5b1" for nm in names])
        ax.set_yticks(np.arange(len(names)), names, fontsize=7)
        ax.invert_yaxis()
        ax.xaxis.set_major_locator(MaxNLocator(3))
        ax.tick_params(axis="x", labelsize=7)
        ax.set_title("gradient size (RMS) per layer", fontsize=8)
        what = f"loss -log p({self.class_names[t]})" if objective == "loss" else f"score of {self.class_names[t]}"
        suptitle(fig, f"objective: {what} = {rec.values[0]:.3f};  p({self.class_names[t]}) = {rec.probs[0, t]:.1%}")

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["target"] = widgets.Dropdown(options=self._target_options(), value=self.state["target"],
                                              description="target", layout=widgets.Layout(width="220px"))
        controls["objective"] = widgets.ToggleButtons(options=OBJECTIVES, value=self.state["objective"],
                                                      description="objective",
                                                      style={"button_width": "90px"})
        controls["mode"] = widgets.ToggleButtons(options=MODES, value=self.state["mode"], description="show",
                                                 style={"button_width": "120px"})
        controls["layer"] = layer_dropdown(widgets, self.model, self.state["layer"])
        return controls
