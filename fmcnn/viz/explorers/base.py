"""What every explorer shares: settings in ``state``, a pure ``draw``, one widget with two
renderings of it (pictures drawn in advance and switched by the browser; live pictures
drawn by Python), and the pieces several explorers use (choosing one test image,
choosing a layer, an array drawn as a picture).
"""
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from ..filters import color_scale
from ..static import fig_to_png
from .precomputed import BUTTONS_LAYOUT, BUTTONS_STYLE, Choice, PrecomputedView


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


def short_number(v):
    """A number as short as it can be written to two decimals: 0.25, -1.5, 3, 0."""
    return f"{v:.2f}".rstrip("0").rstrip(".") if round(v, 2) else "0"


def annotate(ax, values, fontsize, vmax, skip_zeros=False):
    """Write every value of the 2-D array drawn on ``ax`` in its cell: white on cells darker
    than 0.6 ``vmax`` in absolute value, black on the others; zeros left out if ``skip_zeros``."""
    for (a, b), v in np.ndenumerate(values):
        if v or not skip_zeros:
            ax.text(b, a, short_number(v), ha="center", va="center", fontsize=fontsize,
                    color="white" if abs(v) > 0.6 * vmax else "black")


def outline(ax, row, col, height, width, color, lw=2.0):
    """Frame the ``height`` x ``width`` cells from (row, col) of the array drawn on ``ax``."""
    ax.add_patch(Rectangle((col - 0.5, row - 0.5), width, height, fill=False, edgecolor=color, lw=lw))


def check_layer(model, layer):
    """Raise a ValueError naming the model's layers unless ``layer`` is one of them."""
    if layer not in model.names:
        raise ValueError(f"no layer {layer!r}; layers are {', '.join(model.names)}")


def layer_dropdown(widgets, model, layer):
    """The live control that chooses one of the model's layers, ``layer`` chosen first."""
    return widgets.Dropdown(options=model.names, value=layer, description="layer",
                            layout=widgets.Layout(width="200px"))


def checked_layers(model, layers, first):
    """The layers to draw in advance, in the model's order: ``layers`` (every layer of ``model``
    if None) and ``first``, the layer shown first; a ValueError for a layer the model lacks."""
    names = set(model.names if layers is None else layers) | {first}
    for name in names:
        check_layer(model, name)
    return [name for name in model.names if name in names]


def layer_choice(layers):
    """The precomputed control that chooses one of ``layers``."""
    return Choice("layer", "layer", tuple((name, name) for name in layers))


LIVE_PLACEHOLDER = ("<p><b>Live mode draws with Python</b>, and none is running here: this is a web page, "
                    "or a notebook whose cells have not run. Open the chapter in Jupyter (the launch button "
                    "at the top of the book's page) and run it to draw {what}.</p>")


class Explorer:
    """Base class: settings in ``state``, a pure ``draw``, and a widget built on demand.

    The widget shows pictures drawn in advance, when it is built, for every combination
    of the values of :meth:`precomputed_choices` (those :meth:`is_precomputed` accepts);
    its controls switch between them in the browser, so they work in the static book.
    An explorer with a ``live_note`` (what else Python can draw, e.g. "any test image")
    also has a live mode, in which Python draws the picture for any setting of the live
    controls (``_make_controls``); without one, the precomputed pictures cover every setting.

    Subclasses define ``figsize`` (the picture's width and height in inches),
    ``_draw_into(fig, **state)``, :meth:`precomputed_choices`, and for a live mode
    ``live_note`` and ``_make_controls(widgets)`` returning ``{state key: control widget}``;
    optionally ``_clean(state)`` (to validate and clamp settings), ``_sync(controls)``
    (to adjust live control options after a change), :meth:`is_precomputed` and
    ``precomputed_note`` (which combinations are drawn, when not all of them are).
    """

    figsize = (11, 3.6)
    dpi = 72
    png_colors = 256           # a palette PNG: less than half the bytes, and the book stores hundreds
    live_note = None
    precomputed_note = ""

    def __init__(self, **state):
        self.state = {}
        self._widget = None
        self._view = None
        self._live = None
        self._live_pane = None
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

    def picture(self, **changes):
        """The PNG bytes that the widget shows for the current settings changed by ``changes``."""
        return self._png(self.draw(**changes))

    def _png(self, fig):
        return fig_to_png(fig, self.dpi, colors=self.png_colors)

    def update(self, **changes):
        """Change settings, redraw, and (if the live mode has been opened) show the new picture there.
        Returns the Figure. The precomputed pictures do not change."""
        self._check_keys(changes)
        self.state = self._clean({**self.state, **changes})
        fig = self.draw()
        if self._live is not None:
            self._sync_controls()
            self._image.value = self._png(fig)
            self._status.value = ""
        return fig

    def _check_keys(self, changes):
        unknown = sorted(set(changes) - set(self.state))
        if unknown:
            raise TypeError(f"{type(self).__name__} has no setting {', '.join(map(repr, unknown))}; "
                            f"settings: {', '.join(self.state)}")

    # -- the precomputed pictures ----------------------------------------------------
    def precomputed_choices(self):
        """The controls of the precomputed pictures, outermost first: a list of :class:`Choice`."""
        raise NotImplementedError

    def is_precomputed(self, settings):
        """Whether the picture for ``settings`` (the state with one value of every choice) is drawn in advance."""
        return True

    def _precomputed_picture(self, values):
        settings = {**self.state, **values}
        return self.picture(**settings) if self.is_precomputed(settings) else None

    def _caption(self, view):
        what = " x ".join(c.description for c in view.choices)
        sizes = " x ".join(str(len(c.options)) for c in view.choices)
        if view.count == view.total:
            text = (f"These {view.count} pictures, one for each {what} ({sizes}), were drawn when the "
                    f"notebook ran; the controls switch between them in your browser.")
        else:
            text = (f"{view.count} of the {view.total} combinations of {what} ({sizes}) were drawn when the "
                    f"notebook ran: {self.precomputed_note} The controls switch between them in your browser.")
        if self.live_note:
            text += f" For {self.live_note}, choose <i>live</i>: Python draws it (in Jupyter)."
        return text

    # -- the widget ------------------------------------------------------------------
    @property
    def widget(self):
        """The ipywidgets user interface (built on first use, drawing every precomputed picture)."""
        if self._widget is None:
            widgets = _ipywidgets()
            choices = self.precomputed_choices()
            initial = [c.index_of(self.state.get(c.key)) for c in choices]
            not_drawn = "<i>Not drawn in advance for this page.</i>"
            if self.live_note:
                not_drawn += " In Jupyter, choose <i>live</i> to draw it."
            self._view = PrecomputedView(widgets, choices, initial, self._precomputed_picture, not_drawn)
            caption = widgets.HTML(f"<p style='font-size: 0.85em; line-height: 1.4'>{self._caption(self._view)}</p>")
            parts = [self._view.widget, caption]
            if self.live_note:
                self._live_pane = widgets.VBox([widgets.HTML(LIVE_PLACEHOLDER.format(what=self.live_note))])
                pages = widgets.Stack([widgets.VBox(parts), self._live_pane], selected_index=0)
                mode = widgets.ToggleButtons(options=["precomputed", "live"], description="pictures",
                                             style=BUTTONS_STYLE, layout=BUTTONS_LAYOUT)
                mode.add_class("fmcnn-mode")
                widgets.jsdlink((mode, "index"), (pages, "selected_index"))   # kept by ipywidgets' registry
                mode.observe(self._on_mode, names="index")
                parts = [mode, pages]
            self._widget = widgets.VBox(parts, layout=widgets.Layout(width="100%"))
            self._widget.add_class("fmcnn-explorer")
        return self._widget

    def _on_mode(self, change):
        """In Jupyter, the first switch to live mode builds the live controls, at the settings chosen so far."""
        if change["new"] == 1 and self._live is None:
            self.state = self._clean({**self.state, **self._view.values()})
            self._live_pane.children = (self.live,)

    @property
    def live(self):
        """The live user interface (controls, picture, status line), built on first use."""
        if self._live is None:
            widgets = _ipywidgets()
            self._controls = self._make_controls(widgets)
            for key, control in self._controls.items():
                control.observe(lambda change, key=key: self._on_control(key, change["new"]), names="value")
            self._image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
            self._status = widgets.HTML("")
            self._live = widgets.VBox([self._layout(widgets, self._controls), self._image, self._status])
            self.update()
        return self._live

    def _make_controls(self, widgets):
        raise NotImplementedError

    def _sync(self, controls):
        """Adjust live control options to the state (e.g. a slider's range); values are set by the caller."""

    def _layout(self, widgets, controls):
        return widgets.HBox(list(controls.values()), layout=widgets.Layout(flex_flow="row wrap"))

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

    def _class_options(self):
        return [(n, k) for k, n in enumerate(self.class_names) if len(self.by_class[k])]

    def _image_choices(self, per_class):
        """The precomputed controls of the image: its class, and which of the first ``per_class`` of it."""
        choices = [Choice("cls", "class", tuple(self._class_options()))]
        if per_class > 1:
            choices.append(Choice("index", "image", tuple((str(i), i) for i in range(per_class)), "buttons"))
        return choices

    def _image_controls(self, widgets):
        return {
            "cls": widgets.Dropdown(options=self._class_options(), value=self.state["cls"], description="class",
                                    layout=widgets.Layout(width="220px")),
            "index": widgets.IntSlider(value=self.state["index"], min=0,
                                       max=len(self.by_class[self.state["cls"]]) - 1,
                                       description="image", continuous_update=False),
        }

    def _sync(self, controls):
        controls["index"].max = len(self.by_class[self.state["cls"]]) - 1
