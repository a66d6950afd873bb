"""FeatureMapExplorer: every channel of one layer's output for one test image."""
from ...data import CLASS_NAMES
from ...preprocess import to_input
from ..filters import draw_image, draw_maps, draw_probabilities
from ..record import record
from .base import ImageExplorer, check_layer, checked_layers, layer_choice, layer_dropdown, suptitle


class FeatureMapExplorer(ImageExplorer):
    """Every channel of one layer's output for one test image, with the predicted probabilities.

    Args:
        model: a trained :class:`fmcnn.nn.Sequential` (e.g. ``fmcnn.models.lenet_bn(pretrained=True)``).
        images, labels: uint8 images (N, 28, 28) and their classes, e.g. the test set.
        cls, index: the first image shown: the ``index``-th image of class ``cls``.
        layer: the first layer shown (any layer name of the model).
        normalize: preprocess as in training (``fmcnn.preprocess.to_input``).
        per_class, precomputed_layers: the pictures drawn in advance show the first
            ``per_class`` images of every class at each of ``precomputed_layers`` (by default
            every layer); live mode shows any image at any layer.
    """

    figsize = (11, 3.6)
    live_note = "any test image"

    def __init__(self, model, images, labels, cls=0, index=0, layer="conv1", class_names=CLASS_NAMES, normalize=True,
                 per_class=2, precomputed_layers=None):
        self.model = model
        self._init_images(images, labels, class_names, normalize)
        self._cache = {}
        self.per_class = per_class
        self.precomputed_layers = checked_layers(model, precomputed_layers, layer)
        super().__init__(cls=cls, index=index, layer=layer)

    def _clean(self, state):
        state = self._clean_image(state)
        check_layer(self.model, state["layer"])
        return state

    def recording(self, cls, index):
        """The :func:`fmcnn.viz.record` of one image (forward only), cached."""
        n = self.image_number(cls, index)
        if n not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            x = to_input(self.images[n:n + 1], self.normalize)
            self._cache[n] = record(self.model, x, backward=False)
        return self._cache[n]

    def _draw_into(self, fig, cls, index, layer):
        rec = self.recording(cls, index)
        n = self.image_number(cls, index)
        probs = rec.probs[0]
        pred = int(probs.argmax())
        maps = rec.activations[layer][0]
        draw_image(fig.add_axes((0.01, 0.15, 0.11, 0.6)), self.images[n],
                   title=f"test image {n}\n{self.class_names[cls]}")
        shape = "x".join(map(str, maps.shape))
        ax = fig.add_axes((0.15, 0.13 if maps.ndim == 1 else 0.03, 0.6, 0.72 if maps.ndim == 1 else 0.8))
        scale_note = " (one shared color scale; white = 0)" if maps.ndim == 3 else ""
        draw_maps(ax, maps, ncols=8, title=f"{layer}: output {shape}{scale_note}")
        draw_probabilities(fig.add_axes((0.86, 0.13, 0.13, 0.72)), probs, self.class_names, true_class=cls)
        verdict = "right" if pred == cls else "wrong"
        suptitle(fig, f"predicted {self.class_names[pred]} ({probs[pred]:.1%}), true class "
                      f"{self.class_names[cls]}: {verdict}")

    def precomputed_choices(self):
        return self._image_choices(self.per_class) + [layer_choice(self.precomputed_layers)]

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["layer"] = layer_dropdown(widgets, self.model, self.state["layer"])
        return controls
