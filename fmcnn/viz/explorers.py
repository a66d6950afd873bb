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
"""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from numpy.lib.stride_tricks import sliding_window_view

from ..data import CLASS_NAMES
from ..preprocess import to_input
from .filters import color_scale, draw_filters, draw_image, draw_maps, draw_probabilities
from .record import record
from .saliency import GRADIENT_MODES, gradient_norms, gradient_view
from .static import animate, fig_to_png

__all__ = ["ConvPlayground", "Explorer", "FeatureMapExplorer", "GradientExplorer", "TrainingExplorer",
           "PRESET_KERNELS", "preset_kernel", "correlate_same"]


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError:   # pragma: no cover - ipywidgets is in requirements.txt
        raise ImportError("The explorers need ipywidgets (pip install ipywidgets); "
                          "the draw() methods work without it.") from None
    return ipywidgets


def new_figure(width, height, dpi=72):
    """A Figure that pyplot does not manage (so a notebook never shows it by itself).

    The explorers place their axes by hand (``fig.add_axes``) instead of using
    an automatic layout engine, and draw all channels of a layer as one mosaic:
    that keeps a redraw well under a second.
    """
    fig = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(fig)
    return fig


def _suptitle(fig, text):
    fig.text(0.5, 0.985, text, ha="center", va="top", fontsize=11)


def _resample(tiles, size):
    """Nearest-neighbour resize of tiles (n, k, k) to (n, size, size): small filters drawn as big as maps."""
    idx = (np.arange(size) * tiles.shape[-1]) // size
    return tiles[:, idx][:, :, idx]


class Explorer:
    """Base class: settings in ``state``, a pure ``draw``, and a widget built on demand.

    Subclasses define ``size`` (figure inches), ``_draw_into(fig, **state)``,
    ``_make_controls(widgets)`` returning ``{state key: control widget}``, and
    optionally ``_clean(state)`` (to validate and clamp settings) and
    ``_sync(controls)`` (to adjust control options after a change).
    """

    size = (11, 3.6)
    dpi = 72

    def __init__(self, **state):
        self.state = {}
        self._widget = None
        self._controls = {}
        self._image = None
        self._status = None
        self._syncing = False
        self.state = self._clean(dict(state))

    # -- drawing, no browser needed ------------------------------------------------
    def _clean(self, state):
        return state

    def _draw_into(self, fig, **state):
        raise NotImplementedError

    def draw(self, **changes):
        """Figure for the current settings changed by ``changes`` (``self.state`` is not modified)."""
        self._check_keys(changes)
        state = self._clean({**self.state, **changes})
        fig = new_figure(*self.size, dpi=self.dpi)
        self._draw_into(fig, **state)
        return fig

    def update(self, **changes):
        """Change settings, redraw, and (if the widget exists) show the new picture. Returns the Figure."""
        self._check_keys(changes)
        self.state = self._clean({**self.state, **changes})
        fig = self.draw()
        if self._widget is not None:
            self._sync_controls()
            self._image.value = fig_to_png(fig, self.dpi)
            self._status.value = ""
        return fig

    def animation(self, key, values, interval=800, **fixed):
        """A playable HTML animation of the pictures for ``key`` = each of ``values`` (the
        other settings from ``self.state``, updated by ``fixed``). Works in a static page."""
        self._check_keys({key: None, **fixed})
        values = list(values)
        base = {**self.state, **fixed}
        fig = new_figure(*self.size, dpi=self.dpi)

        def frame(value):
            fig.clear()
            self._draw_into(fig, **self._clean({**base, key: value}))

        frame(values[0])
        return animate(fig, frame, values, interval=interval)

    def _check_keys(self, changes):
        unknown = sorted(set(changes) - set(self.state))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(map(repr, unknown))}; "
                            f"settings: {', '.join(self.state)}")

    # -- the widget ------------------------------------------------------------------
    def _make_controls(self, widgets):
        raise NotImplementedError

    def _sync(self, controls):
        """Adjust control options to the state (e.g. a slider's range); values are set by the caller."""

    def _layout(self, widgets, controls):
        return widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

    @property
    def widget(self):
        """The ipywidgets user interface (built on first use)."""
        if self._widget is None:
            widgets = _ipywidgets()
            self._controls = self._make_controls(widgets)
            for key, control in self._controls.items():
                control.observe(lambda change, key=key: self._on_control(key, change["new"]), names="value")
            self._image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
            self._status = widgets.HTML("")
            self._widget = widgets.VBox([self._layout(widgets, self._controls), self._image, self._status],
                                        layout=widgets.Layout(width="100%"))
            self._widget.add_class("fmcnn-explorer")
            self.update()
        return self._widget

    def _sync_controls(self):
        self._syncing = True
        try:
            self._sync(self._controls)
            for key, control in self._controls.items():
                if key in self.state and control.value != self.state[key]:
                    control.value = self.state[key]
        finally:
            self._syncing = False

    def _on_control(self, key, value):
        if self._syncing:
            return
        try:
            self.update(**{key: value})
        except Exception as e:   # show the problem next to the controls instead of losing it in a log
            self._status.value = f"<span style='color:#b00'>{type(e).__name__}: {e}</span>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)   # stable text (the widget's own repr holds the PNG bytes)
        return bundle

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.state.items() if not isinstance(v, np.ndarray))
        return f"{type(self).__name__}({settings})"


class _PicksImage(Explorer):
    """Settings ``cls`` (a class index) and ``index`` (which example of that class)."""

    def _init_images(self, images, labels, class_names, normalize):
        self.images = np.asarray(images)
        self.labels = np.asarray(labels).astype(np.int64)
        self.class_names = list(class_names)
        self.normalize = normalize
        self.by_class = [np.flatnonzero(self.labels == c) for c in range(len(self.class_names))]

    def _clean_image(self, state):
        cls = int(state["cls"])
        if not 0 <= cls < len(self.class_names) or len(self.by_class[cls]) == 0:
            raise ValueError(f"no images of class {cls}")
        state["cls"] = cls
        state["index"] = int(np.clip(int(state["index"]), 0, len(self.by_class[cls]) - 1))
        return state

    def image_number(self, cls, index):
        """Position in ``images`` of the ``index``-th image of class ``cls``."""
        return int(self.by_class[cls][index])

    def _image_controls(self, widgets):
        return {
            "cls": widgets.Dropdown(options=[(n, k) for k, n in enumerate(self.class_names) if len(self.by_class[k])],
                                    value=self.state["cls"], description="class",
                                    layout=widgets.Layout(width="220px")),
            "index": widgets.IntSlider(value=self.state["index"], min=0,
                                       max=len(self.by_class[self.state["cls"]]) - 1,
                                       description="image", continuous_update=False),
        }

    def _sync(self, controls):
        controls["index"].max = len(self.by_class[self.state["cls"]]) - 1


class FeatureMapExplorer(_PicksImage):
    """Every channel of one layer's output for one test image, with the predicted probabilities.

    Args:
        model: a trained :class:`fmcnn.nn.Sequential` (e.g. ``fmcnn.models.lenet_bn(pretrained=True)``).
        images, labels: uint8 images (N, 28, 28) and their classes, e.g. the test set.
        cls, index: the first image shown: the ``index``-th image of class ``cls``.
        layer: the first layer shown (any layer name of the model).
        normalize: preprocess as in training (``fmcnn.preprocess.to_input``).
    """

    size = (11, 3.6)

    def __init__(self, model, images, labels, cls=0, index=0, layer="conv1", class_names=CLASS_NAMES, normalize=True):
        self.model = model
        self._init_images(images, labels, class_names, normalize)
        self._cache = {}
        super().__init__(cls=cls, index=index, layer=layer)

    def _clean(self, state):
        state = self._clean_image(state)
        if state["layer"] not in self.model.names:
            raise ValueError(f"no layer {state['layer']!r}; layers are {', '.join(self.model.names)}")
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
        _suptitle(fig, f"predicted {self.class_names[pred]} ({probs[pred]:.1%}), true class "
                       f"{self.class_names[cls]}: {verdict}")

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["layer"] = widgets.Dropdown(options=self.model.names, value=self.state["layer"],
                                             description="layer", layout=widgets.Layout(width="200px"))
        return controls


class GradientExplorer(_PicksImage):
    """Gradients for one image: the saliency map d objective / d input, and the gradient at
    every channel of a chosen layer, as raw values, absolute values or gradient x input.

    Settings: ``cls``, ``index`` (the image), ``target`` (the class the objective is
    computed for; -1 means the image's true class), ``objective`` ("loss": the
    cross-entropy loss of the target class, or "score": its logit), ``mode``
    ("raw", "abs", "grad_x_input") and ``layer``.
    """

    size = (11, 3.8)

    def __init__(self, model, images, labels, cls=0, index=0, target=-1, objective="loss", mode="raw",
                 layer="conv1", class_names=CLASS_NAMES, normalize=True):
        self.model = model
        self._init_images(images, labels, class_names, normalize)
        super().__init__(cls=cls, index=index, target=target, objective=objective, mode=mode, layer=layer)

    def _clean(self, state):
        state = self._clean_image(state)
        state["target"] = int(state["target"])
        if not -1 <= state["target"] < len(self.class_names):
            raise ValueError(f"target must be -1 (the true class) or a class index, got {state['target']}")
        if state["objective"] not in ("loss", "score"):
            raise ValueError(f"objective must be 'loss' or 'score', got {state['objective']!r}")
        if state["mode"] not in GRADIENT_MODES:
            raise ValueError(f"mode must be one of {', '.join(GRADIENT_MODES)}, got {state['mode']!r}")
        if state["layer"] not in self.model.names:
            raise ValueError(f"no layer {state['layer']!r}; layers are {', '.join(self.model.names)}")
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
        cmap, vmin, vmax = color_scale(saliency, signed=mode != "abs")
        a2.imshow(saliency, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        a2.set_xticks([])
        a2.set_yticks([])
        a2.set_title(f"saliency: {GRADIENT_MODES[mode]}\nwith respect to the input", fontsize=8)
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
        _suptitle(fig, f"objective: {what} = {rec.values[0]:.3f};  p({self.class_names[t]}) = {rec.probs[0, t]:.1%}")

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["target"] = widgets.Dropdown(options=[("true class", -1)] + [(n, k) for k, n in enumerate(self.class_names)],
                                              value=self.state["target"], description="target",
                                              layout=widgets.Layout(width="220px"))
        controls["objective"] = widgets.ToggleButtons(options=[("loss", "loss"), ("class score", "score")],
                                                      value=self.state["objective"], description="objective",
                                                      style={"button_width": "90px"})
        controls["mode"] = widgets.ToggleButtons(options=[(label, m) for m, label in GRADIENT_MODES.items()],
                                                 value=self.state["mode"], description="show",
                                                 style={"button_width": "120px"})
        controls["layer"] = widgets.Dropdown(options=self.model.names, value=self.state["layer"],
                                             description="layer", layout=widgets.Layout(width="200px"))
        return controls


class TrainingExplorer(Explorer):
    """Filters through training: conv1's filters and one image's conv1 feature maps at
    every saved checkpoint, chosen with a slider over training steps.

    Args:
        model: a model of the architecture the checkpoints were saved from (its
            weights are overwritten while loading; pass a spare one).
        checkpoints: ``[(step, path or state_dict), ...]`` as from
            ``fmcnn.train.list_checkpoints(run_dir)``; a ``state_dict`` (from
            ``model.state_dict()``) can stand for the initial weights at step 0.
        image: one uint8 image (28, 28); ``title``: its caption.
        eval_data: optional ``(images, labels)`` on which each checkpoint's accuracy is measured.
        layer: the conv layer whose filters are shown; ``maps_layer``: the layer whose maps are shown.

    All checkpoints are loaded once, when the explorer is made, so moving the
    slider only draws.
    """

    size = (11, 5.0)

    def __init__(self, model, checkpoints, image, title="", eval_data=None, layer="conv1", maps_layer=None,
                 normalize=True, step=None):
        from ..checkpoint import load_checkpoint
        self.layer = layer
        self.maps_layer = maps_layer or layer
        self.image = np.asarray(image)
        self.title = title
        self.frames = {}
        x = to_input(self.image[None], normalize)
        if eval_data is not None:
            xe, ye = to_input(eval_data[0], normalize), np.asarray(eval_data[1])
        was_training = model.training
        for step, source in sorted(checkpoints, key=lambda c: c[0]):
            if isinstance(source, dict):
                model.load_state_dict(source)
            else:
                load_checkpoint(source, model)
            rec = record(model, x, backward=False)
            acc = None
            if eval_data is not None:
                model.eval()
                acc = float(np.mean(model.forward(xe).argmax(axis=1) == ye))
            self.frames[int(step)] = dict(weight=model[layer].weight.data.copy(),
                                          maps=rec.activations[self.maps_layer][0].copy(), accuracy=acc)
        model.train(was_training)
        if not self.frames:
            raise ValueError("no checkpoints given")
        self.steps = sorted(self.frames)
        super().__init__(step=self.steps[-1] if step is None else step)

    def _clean(self, state):
        step = int(state["step"])
        if step not in self.frames:   # snap to the nearest saved step
            step = min(self.steps, key=lambda s: abs(s - step))
        state["step"] = step
        return state

    def _draw_into(self, fig, step):
        frame = self.frames[step]
        weight, maps = frame["weight"], frame["maps"]
        first = self.frames[self.steps[0]]["weight"]
        # Scales shared by all checkpoints, so that growth shows as the slider moves.
        w_scale = color_scale(np.stack([f["weight"] for f in self.frames.values()]), signed=True)
        d_scale = color_scale(np.stack([f["weight"] - first for f in self.frames.values()]), signed=True)
        draw_image(fig.add_axes((0.01, 0.3, 0.12, 0.4)), self.image, title=self.title)
        change = weight - first
        rel = np.linalg.norm(change) / max(np.linalg.norm(first), 1e-12)
        titles = (f"{self.layer} filters (one color scale for all steps: |w| up to {w_scale[2]:.2f})",
                  f"change since step {self.steps[0]}: {rel:.1%} of the initial filters' size")
        for row, (w, scale, title) in enumerate(zip((weight, change), (w_scale, d_scale), titles)):
            ax = fig.add_axes((0.16, 0.63 - 0.31 * row, 0.82, 0.24))
            if weight.shape[1] == 1 and maps.ndim == 3 and len(maps) == len(weight):
                # filters drawn at the size of the maps, so filter i sits right above map i
                draw_maps(ax, _resample(w[:, 0], maps.shape[-1]), scale=scale, title=title)
            else:
                draw_filters(ax, w, title=title)
        draw_maps(fig.add_axes((0.16, 0.01, 0.82, 0.24)), maps, ncols=8,
                  title=f"{self.maps_layer} maps of the image: each is the image filtered by the filter above it")
        text = f"after {step} training steps"
        if frame["accuracy"] is not None:
            text += f": accuracy {frame['accuracy']:.1%} on the evaluation images"
        _suptitle(fig, text)

    def _make_controls(self, widgets):
        return {"step": widgets.SelectionSlider(options=self.steps, value=self.state["step"],
                                                description="step", continuous_update=False,
                                                layout=widgets.Layout(width="500px"))}

    def animation(self, key="step", values=None, interval=700, **fixed):
        """Playable animation over all checkpoints (by default)."""
        return super().animation(key, self.steps if values is None else values, interval=interval, **fixed)


# -- the convolution playground ------------------------------------------------------------

def _sobel(size):
    smooth = np.array([1.0, 2, 1]) if size == 3 else np.array([1.0, 4, 6, 4, 1])
    deriv = np.array([-1.0, 0, 1]) if size == 3 else np.array([-1.0, -2, 0, 2, 1])
    return np.outer(smooth, deriv) / (4 if size == 3 else 24)


def _gaussian(size):
    row = np.array([1.0, 2, 1]) if size == 3 else np.array([1.0, 4, 6, 4, 1])
    g = np.outer(row, row)
    return g / g.sum()


def _identity(size):
    k = np.zeros((size, size))
    k[size // 2, size // 2] = 1
    return k


PRESET_KERNELS = {
    "identity": _identity,
    "box blur": lambda s: np.full((s, s), 1.0 / (s * s)),
    "gaussian blur": _gaussian,
    "sharpen": lambda s: 2 * _identity(s) - _gaussian(s),
    "vertical edges": _sobel,
    "horizontal edges": lambda s: _sobel(s).T,
    "outline": lambda s: np.where(_identity(s) > 0, s * s - 1.0, -1.0),
    "emboss": lambda s: np.sign(np.add.outer(np.arange(s), np.arange(s)) - (s - 1)) + _identity(s),
}
"""Preset kernels by name; each maps a size (3 or 5) to a (size, size) array."""


def preset_kernel(name, size=3):
    """The preset kernel ``name`` (a key of :data:`PRESET_KERNELS`) of size 3 or 5: a new (size, size) array."""
    if name not in PRESET_KERNELS:
        raise ValueError(f"no preset {name!r}; presets: {', '.join(PRESET_KERNELS)}")
    if size not in (3, 5):
        raise ValueError(f"size must be 3 or 5, got {size}")
    return np.array(PRESET_KERNELS[name](size), dtype=np.float64)


def correlate_same(image, kernel):
    """Cross-correlate one image (H, W) with a kernel (k, k), k odd, zero-padded so the output is (H, W).

    This is what a conv layer with one input and one output channel, stride 1
    and padding k // 2 computes (without bias).
    """
    image = np.asarray(image, dtype=np.float64)
    kernel = np.asarray(kernel, dtype=np.float64)
    k = kernel.shape[0]
    padded = np.pad(image, k // 2)
    return np.einsum("ijab,ab->ij", sliding_window_view(padded, (k, k)), kernel)


class ConvPlayground(_PicksImage):
    """A kernel applied to a garment: choose a preset (edges, blur, sharpen, ...), 3x3 or
    5x5, and edit its values; see the output and the output after ReLU.

    Settings: ``cls``, ``index`` (the garment), ``size`` (3 or 5), ``preset`` (a name
    of :data:`PRESET_KERNELS`, or "custom") and ``kernel`` (the values, size x size;
    choosing a preset replaces them, editing them makes the preset "custom").
    Pixels are scaled to [0, 1] (no normalization), as in the convolution chapter.
    """

    size = (11, 3.0)

    def __init__(self, images, labels, cls=0, index=0, preset=None, size=3, kernel=None, class_names=CLASS_NAMES):
        self._init_images(images, labels, class_names, normalize=False)
        if preset is None:
            preset = "vertical edges" if kernel is None else "custom"
        if kernel is None:
            kernel = preset_kernel("identity" if preset == "custom" else preset, size)
        super().__init__(cls=cls, index=index, size=size, preset=preset, kernel=kernel)

    def _clean(self, state):
        state = self._clean_image(state)
        size = int(state["size"])
        if size not in (3, 5):
            raise ValueError(f"size must be 3 or 5, got {size}")
        kernel = np.asarray(state["kernel"], dtype=np.float64)
        preset = state["preset"]
        if preset != "custom" and preset not in PRESET_KERNELS:
            raise ValueError(f"no preset {preset!r}; presets: {', '.join(PRESET_KERNELS)}, custom")
        if preset != "custom" and (self.state.get("preset") != preset or kernel.shape != (size, size)
                                   or self.state.get("size") != size):
            kernel = preset_kernel(preset, size)   # a new preset (or size) replaces the values
        elif kernel.shape != (size, size):         # a custom kernel that changes size keeps its centre
            new = np.zeros((size, size))
            m = min(size, kernel.shape[0])
            a, b = (size - m) // 2, (kernel.shape[0] - m) // 2
            new[a:a + m, a:a + m] = kernel[b:b + m, b:b + m]
            kernel = new
        state.update(size=size, kernel=kernel)
        return state

    def update(self, **changes):
        """As :meth:`Explorer.update`; changing ``kernel`` alone makes the preset "custom"."""
        if "kernel" in changes and "preset" not in changes:
            changes["preset"] = "custom"
        return super().update(**changes)

    def output(self, cls, index, kernel):
        """The garment (pixels in [0, 1]) and its correlation with ``kernel`` (same size)."""
        image = self.images[self.image_number(cls, index)] / 255.0
        return image, correlate_same(image, kernel)

    def _draw_into(self, fig, cls, index, size, preset, kernel):
        image, out = self.output(cls, index, kernel)
        axes = [fig.add_axes((0.01 + 0.25 * j, 0.03, 0.23, 0.8)) for j in range(4)]
        n = self.image_number(cls, index)
        draw_image(axes[0], image, title=f"image {n}: {self.class_names[cls]}", label_size=9)
        cmap, vmin, vmax = color_scale(kernel, signed=True)
        axes[1].imshow(kernel, cmap=cmap, vmin=vmin, vmax=vmax)
        for (a, b), v in np.ndenumerate(kernel):
            axes[1].text(b, a, f"{v:.2f}".rstrip("0").rstrip(".") if v else "0", ha="center", va="center",
                         fontsize=9 if size == 3 else 7, color="white" if abs(v) > 0.6 * vmax else "black")
        axes[1].set_xticks([])
        axes[1].set_yticks([])
        axes[1].set_title(f"kernel: {preset} ({size}x{size})", fontsize=9)
        cmap, vmin, vmax = color_scale(out, signed=True)
        axes[2].imshow(out, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
        axes[2].set_title(f"output: {out.min():.2f} to {out.max():.2f}", fontsize=9)
        relu = np.maximum(out, 0)
        axes[3].imshow(relu, cmap="viridis", vmin=0, vmax=max(float(relu.max()), 1e-12), interpolation="nearest")
        axes[3].set_title("output after ReLU", fontsize=9)
        for ax in axes[2:]:
            ax.set_xticks([])
            ax.set_yticks([])

    def _make_controls(self, widgets):
        controls = self._image_controls(widgets)
        controls["size"] = widgets.ToggleButtons(options=[("3x3", 3), ("5x5", 5)], value=self.state["size"],
                                                 description="size", style={"button_width": "60px"})
        controls["preset"] = widgets.Dropdown(options=list(PRESET_KERNELS) + ["custom"], value=self.state["preset"],
                                              description="kernel", layout=widgets.Layout(width="240px"))
        self._cells = [widgets.FloatText(layout=widgets.Layout(width="62px")) for _ in range(25)]
        for i, cell in enumerate(self._cells):
            cell.observe(lambda change, i=i: self._on_cell(i, change["new"]), names="value")
        self._grid = widgets.GridBox(layout=widgets.Layout(grid_gap="2px"))
        self._sync_cells()
        return controls

    def _layout(self, widgets, controls):
        left = widgets.VBox(list(controls.values()))
        right = widgets.VBox([widgets.HTML("<b>kernel values</b> (edit, then press Enter or leave the box)"),
                              self._grid])
        return widgets.HBox([left, right], layout=widgets.Layout(flex_flow="row wrap", grid_gap="20px"))

    def _sync(self, controls):
        super()._sync(controls)
        self._sync_cells()

    def _sync_cells(self):
        k = self.state["size"]
        syncing, self._syncing = self._syncing, True
        try:
            for i, v in enumerate(np.asarray(self.state["kernel"]).ravel()):
                if self._cells[i].value != float(v):
                    self._cells[i].value = float(v)
        finally:
            self._syncing = syncing
        if len(self._grid.children) != k * k:
            self._grid.children = self._cells[:k * k]
            self._grid.layout.grid_template_columns = f"repeat({k}, 64px)"

    def _on_cell(self, i, value):
        if self._syncing:
            return
        kernel = np.array(self.state["kernel"], dtype=np.float64)
        kernel.flat[i] = value
        try:
            self.update(kernel=kernel)
        except Exception as e:
            self._status.value = f"<span style='color:#b00'>{type(e).__name__}: {e}</span>"
