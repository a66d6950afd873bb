"""Turning figures into things a static web page can show without a Python kernel:
PNG bytes (for ``ipywidgets.Image``) and playable HTML animations."""
import io

import matplotlib
from matplotlib.animation import FuncAnimation


def fig_to_png(fig, dpi=80):
    """Render a matplotlib Figure to PNG bytes (the figure is left open)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


class AnimationHTML:
    """A playable animation as self-contained HTML (frames embedded as PNG, controls in
    plain JavaScript): it plays in a static page with no kernel and no network.

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
        html = anim.to_jshtml(default_mode=default_mode)
    if close:
        import matplotlib.pyplot as plt
        plt.close(fig)
    return AnimationHTML(html, len(frames))
