"""What the browser shows for an explorer's precomputed controls, found without a browser.

In the browser each Stack's ``selected_index`` follows its control's ``index`` through a
``jsdlink``; :func:`shown` follows those links in Python.
"""
import ipywidgets as widgets


def shown(view):
    """The widget a :class:`~fmcnn.viz.explorers.precomputed.PrecomputedView` shows for its controls'
    current indices: the picture (an Image) or the placeholder."""
    links = {id(link.target[0]): link for link in view.links}
    widget = view.widget.children[1]
    while isinstance(widget, widgets.Stack):
        link = links[id(widget)]
        assert link.target[1] == "selected_index" and link.source[1] == "index"
        widget = widget.children[link.source[0].index]
    return widget


def choose(explorer, **values):
    """Set the explorer's precomputed controls to ``values`` as a reader's clicks would, and return
    the PNG bytes then shown (None for the placeholder)."""
    view = explorer._view
    for choice, control in zip(view.choices, view.controls):
        if choice.key in values:
            control.index = [v for _, v in choice.options].index(values[choice.key])
    picture = shown(view)
    return None if picture is view.placeholder else bytes(picture.value)


def fake_pictures(monkeypatch, explorer):
    """Replace the explorer's PNG pictures by bytes that spell out the settings: much faster to
    make, and different for every setting, so that ``choose`` tells which setting is shown."""
    def picture(**changes):
        return repr(sorted(explorer._clean({**explorer.state, **changes}).items())).encode()
    monkeypatch.setattr(explorer, "picture", picture)
