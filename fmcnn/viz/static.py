"""Figures as PNG bytes, small enough to store hundreds of them in a web page.

The explorers put their pictures into ``ipywidgets.Image`` widgets; the book stores
every precomputed picture in the page (``fmcnn.viz.explorers.precomputed``), so
their size is the page's size.
"""
import io

import numpy as np
from PIL import Image


def fig_to_png(fig, dpi=80, colors=None):
    """Render a matplotlib Figure to PNG bytes (the figure is left open).

    With ``colors`` (at most 256), the picture is stored with a palette of that many
    colors instead of 24-bit color: for the explorers' pictures (flat color maps, text,
    a few bars) with 256 colors, less than half the bytes.
    """
    if colors is None:
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi)
        return buf.getvalue()
    fig.set_dpi(dpi)
    fig.canvas.draw()
    rgb = np.asarray(fig.canvas.buffer_rgba())[..., :3]
    picture = Image.fromarray(rgb).quantize(colors=colors, method=Image.Quantize.FASTOCTREE)
    buf = io.BytesIO()
    picture.save(buf, format="png")
    return buf.getvalue()
