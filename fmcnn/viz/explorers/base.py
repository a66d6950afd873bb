"""What every explorer shares: settings in ``state``, a pure ``draw``, the ipywidgets
controls built on demand, the redraw to a PNG, the animation; and the pieces several
explorers use (choosing one test image, choosing a layer, an array drawn as a picture).
"""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from ..filters import color_scale
from ..static import animate, fig_to_png


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


def suptitle(fig, text):
    """The line at the top of an explorer's picture."""
    fig.text(0.5, 0.985, text, ha="center", va="top", fontsize=11)


def show_array(ax, values, title, fontsize, signed=True, scale=None):
    """Draw a 2-D array on ``ax`` as one picture, pixel by pixel, without ticks, under ``title``.

    The colors are ``scale=(cmap, vmin, vmax)`` if given, else :func:`fmcnn.viz.color_scale`
    of ``values`` (``signed``: white is 0). Returns the ``(cmap, vmin, vmax)`` used.
    """
    cmap, vmin, vmax = scale or color_scale(values, signed=signed)
    ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(title, fontsize=fontsize)
    return cmap, vmin, vmax


def check_layer(model, layer):
    """Raise a ValueError naming the model's layers unless ``layer`` is one of them."""
    if layer not in model.names:
        raise ValueError(f"no layer {layer!r}; layers are {', '.join(model.names)}")


def layer_dropdown(widgets, model, layer):
    """The control that chooses one of the model's layers, ``layer`` chosen first."""
    return widgets.Dropdown(options=model.names, value=layer, description="layer",
                            layout=widgets.Layout(width="200px"))


class Explorer:
    """Base class: settings in ``state``, a pure ``draw``, and a widget built on demand.

    Subclasses define ``figsize`` (the picture's width and height in inches),
    ``_draw_into(fig, **state)``, ``_make_controls(widgets)`` returning
    ``{state key: control widget}``, and optionally ``_clean(state)`` (to validate
    and clamp settings) and ``_sync(controls)`` (to adjust control options after a change).
    """

    figsize = (11, 3.6)
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
        fig = new_figure(*self.figsize, dpi=self.dpi)
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
        fig = new_figure(*self.figsize, dpi=self.dpi)

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
        if not self._syncing:
            self._update_from_widget(**{key: value})

    def _update_from_widget(self, **changes):
        """``update(**changes)`` for a user's edit in the widget: a problem is shown next to the
        controls instead of being lost in a log."""
        try:
            self.update(**changes)
        except Exception as e:
            self._status.value = f"<span style='color:#b00'>{type(e).__name__}: {e}</span>"

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        bundle["text/plain"] = repr(self)   # stable text (the widget's own repr holds the PNG bytes)
        return bundle

    def __repr__(self):
        settings = ", ".join(f"{k}={v!r}" for k, v in self.state.items() if not isinstance(v, np.ndarray))
        return f"{type(self).__name__}({settings})"


class ImageExplorer(Explorer):
    """An explorer of one image of ``images``, chosen by the settings ``cls`` (a class
    index) and ``index`` (which example of that class)."""

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
