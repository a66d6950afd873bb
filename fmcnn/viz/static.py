"""Turning figures into things a static web page can show without a Python kernel:
PNG bytes (for ``ipywidgets.Image``) and playable HTML animations."""
import io
import re

import matplotlib
from matplotlib.animation import FuncAnimation


def fig_to_png(fig, dpi=80):
    """Render a matplotlib Figure to PNG bytes (the figure is left open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


# matplotlib's player draws its buttons with Font Awesome icons loaded from a CDN, which
# leaves empty buttons (and a failed request) in a page read offline. We replace them by
# plain characters; the buttons keep their titles ("Play", "Pause", ...).
_BUTTON_TEXT = {
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u25ae\u25c0\u25c0",
    "fa fa-step-backward": "\u25ae\u25c0",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u25ae\u25ae",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b6\u25ae",
    "fa fa-fast-forward": "\u25b6\u25b6\u25ae",
    "fa fa-plus": "+",
}


def offline_jshtml(html):
    """Make matplotlib's ``to_jshtml()`` markup self-contained: drop the Font Awesome
    stylesheet link (a CDN) and draw the buttons with plain characters."""
    html = re.sub(r'<link rel="stylesheet"\s+href="https?://[^"]*font-awesome[^"]*">\s*', "", html)
    html = re.sub(r'<i class="(fa [^"]*)"></i>',
                  lambda m: f'<span aria-hidden="true">{_BUTTON_TEXT.get(m.group(1), "?")}</span>', html)
    if re.search(r"(src|href)=\"https?://", html):
        raise RuntimeError("the animation HTML still refers to another site; update fmcnn.viz.static.offline_jshtml")
    return html


class AnimationHTML:
    """A playable animation as self-contained HTML (frames embedded as PNG, controls in
    plain JavaScript, no external stylesheet): it plays in a static page with no kernel
    and no network.

    Displays as HTML in a notebook; ``.html`` is the markup. The markup contains
    random element ids, so notebook cells that show it need ``# NBVAL_IGNORE_OUTPUT``.
    """

    def __init__(self, html, frames):
        self.html = html
        self.frames = frames

    def _repr_html_(self):
        return self.html

    def __repr__(self):
        return f"<animation, {self.frames} frames>"


def animate(fig, update, frames, interval=600, default_mode="loop", close=True):
    """Build a playable HTML animation from a figure and an update function.

    Args:
        fig: the Figure, drawn in its first state.
        update: ``update(frame)`` changes the figure's artists for ``frame``.
        frames: the sequence of frame values passed to ``update``.
        interval: milliseconds between frames when playing.
        default_mode: "loop", "once" or "reflect".
        close: close the figure afterwards, so a notebook does not also show it as a still image.

    Returns an :class:`AnimationHTML`.
    """
    frames = list(frames)
    with matplotlib.rc_context({"animation.embed_limit": 50}):
        anim = FuncAnimation(fig, update, frames=frames, interval=interval, blit=False)
        html = offline_jshtml(anim.to_jshtml(default_mode=default_mode))
    if close:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return AnimationHTML(html, len(frames))
