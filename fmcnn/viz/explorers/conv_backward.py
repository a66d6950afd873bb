"""ConvBackwardExplorer: the gradients of a convolution, one output position at a time."""
import numpy as np

from ...nn import conv_output_size
from .base import Explorer, annotate, outline, short_number, show_array, suptitle
from .precomputed import Choice

SHOW = (("this position only", "this"), ("sum up to this position", "sum"))
"""The options of the "show" control: (label, setting)."""


class ConvBackwardExplorer(Explorer):
    """The backward pass of a convolution with one input and one output channel, output
    position by output position.

    Output position r = (i, j) read the window of the padded input x_p that starts at
    (i s, j s). Its upstream gradient G[i, j] therefore adds G[i, j] times that window to
    dW, and G[i, j] times the kernel W to the window's pixels of dx: that is
    ``dW = G^T X`` and col2im of ``G W`` of the chapter, one row of the im2col matrix at a time.

    Args:
        x: the input (H, W); w: the kernel (k, k); dout: the upstream gradient G, of the
            output's shape for ``stride`` and ``padding``.
        position: the output position shown, in row-major order (0 to Ho * Wo - 1).
        show: "this" (the contributions of that position) or "sum" (of every position up to it:
            at the last one, the complete gradients).
        stride, padding: of the convolution; live mode can change them (with a new G of
            the right shape, drawn from ``seed``).

    The pictures drawn in advance show every position in both ways at the stride and
    padding given here.
    """

    figsize = (11, 3.4)
    live_note = "other strides and paddings"

    def __init__(self, x, w, dout, position=0, show="this", stride=1, padding=0, seed=0):
        self.x = np.asarray(x, dtype=np.float64)
        self.w = np.asarray(w, dtype=np.float64)
        self.seed = seed
        self._gradients = {}
        self._douts = {(int(stride), int(padding)): np.asarray(dout, dtype=np.float64)}
        super().__init__(position=position, show=show, stride=stride, padding=padding)

    def output_shape(self, stride, padding):
        """(Ho, Wo) of the convolution of ``x`` with ``w``."""
        k = self.w.shape[0]
        return tuple(conv_output_size(n + 2 * padding, k, stride) for n in self.x.shape)

    def upstream(self, stride, padding):
        """G for this stride and padding: the one given, or (for other settings, in live mode)
        random values of -2, -1, 1 and 2 from ``seed``, so that every product can be read off the picture."""
        key = (stride, padding)
        if key not in self._douts:
            rng = np.random.default_rng(self.seed)
            self._douts[key] = rng.choice([-2.0, -1.0, 1.0, 2.0], size=self.output_shape(stride, padding))
        return self._douts[key]

    def _clean(self, state):
        state["stride"], state["padding"] = int(state["stride"]), int(state["padding"])
        if state["stride"] < 1 or state["padding"] < 0:
            raise ValueError(f"stride must be >= 1 and padding >= 0, got {state['stride']} and {state['padding']}")
        ho, wo = self.output_shape(state["stride"], state["padding"])
        if self.upstream(state["stride"], state["padding"]).shape != (ho, wo):
            raise ValueError(f"dout must have the output's shape {(ho, wo)}")
        state["position"] = int(np.clip(int(state["position"]), 0, ho * wo - 1))
        if state["show"] not in dict(map(reversed, SHOW)):
            raise ValueError(f"show must be 'this' or 'sum', got {state['show']!r}")
        return state

    def contributions(self, stride, padding):
        """What each output position adds to the gradients: ``(dW, dx_p)`` of shapes
        (Ho * Wo, k, k) and (Ho * Wo, H + 2p, W + 2p), in row-major order of the positions."""
        key = (stride, padding)
        if key not in self._gradients:
            k = self.w.shape[0]
            xp = np.pad(self.x, padding)
            G = self.upstream(stride, padding)
            dw, dxp = [], []
            for (i, j), g in np.ndenumerate(G):
                r, c = i * stride, j * stride
                dw.append(g * xp[r:r + k, c:c + k])
                d = np.zeros_like(xp)
                d[r:r + k, c:c + k] = g * self.w
                dxp.append(d)
            self._gradients[key] = np.array(dw), np.array(dxp)
        return self._gradients[key]

    def gradients(self, position, show, stride, padding):
        """``(dW, dx_p)`` shown for these settings: one position's contributions or their sum so far."""
        dw, dxp = self.contributions(stride, padding)
        chosen = slice(position, position + 1) if show == "this" else slice(0, position + 1)
        return dw[chosen].sum(axis=0), dxp[chosen].sum(axis=0)

    def _draw_into(self, fig, position, show, stride, padding):
        k = self.w.shape[0]
        G = self.upstream(stride, padding)
        ho, wo = G.shape
        i, j = divmod(position, wo)
        xp = np.pad(self.x, padding)
        dw, dxp = self.gradients(position, show, stride, padding)
        widths = [xp.shape[1], k, wo, k, xp.shape[1]]
        scale = 0.92 / (sum(widths) + 1.2 * len(widths))
        left = 0.01
        axes = []
        for width in widths:
            axes.append(fig.add_axes((left, 0.05, width * scale, 0.7)))
            left += (width + 1.2) * scale
        ax_x, ax_w, ax_g, ax_dw, ax_dx = axes
        size = 8 if max(xp.shape) <= 9 else 6
        padded = f", padding {padding}" if padding else ""
        _, _, vmax = show_array(ax_x, xp, f"input x ({self.x.shape[0]}x{self.x.shape[1]}{padded})", 9)
        annotate(ax_x, xp, size, vmax)
        _, _, vmax = show_array(ax_w, self.w, f"kernel W ({k}x{k})", 9)
        annotate(ax_w, self.w, size, vmax)
        _, _, vmax = show_array(ax_g, G, f"G = dL/d out ({ho}x{wo})", 9)
        annotate(ax_g, G, size, vmax)
        _, _, vmax = show_array(ax_dw, dw, "dW", 9)
        annotate(ax_dw, dw, size, vmax)
        _, _, vmax = show_array(ax_dx, dxp, "dx (on the padded grid)" if padding else "dx", 9)
        annotate(ax_dx, dxp, size, vmax, skip_zeros=True)
        if padding:   # outline the input inside the padding: the padding's gradient is dropped
            for ax in (ax_x, ax_dx):
                outline(ax, padding, padding, *self.x.shape, "#555555", lw=1.0)
        first = 0 if show == "sum" else position
        for p in range(first, position + 1):   # the windows (and gradient entries) that contributed
            pi, pj = divmod(p, wo)
            color, lw = ("#e67e22", 2.5) if p == position else ("#f5cba7", 1.0)
            outline(ax_g, pi, pj, 1, 1, color, lw)
            if p == position:
                for ax in (ax_x, ax_dx):
                    outline(ax, pi * stride, pj * stride, k, k, color, lw)
        g = short_number(G[i, j])
        if show == "this":
            text = (f"output ({i}, {j}), position {position + 1} of {ho * wo}:  dW += G[{i},{j}] x window = {g} x window,"
                    f"  dx[window] += G[{i},{j}] W = {g} W")
        else:
            done = "all positions: the complete dW = G^T X and dx = col2im(G W)" if position == ho * wo - 1 \
                else f"positions 1 to {position + 1} of {ho * wo}"
            text = f"sums over {done}"
        suptitle(fig, f"stride {stride}: {text}")

    def precomputed_choices(self):
        ho, wo = self.output_shape(self.state["stride"], self.state["padding"])
        positions = tuple((f"({p // wo}, {p % wo})", p) for p in range(ho * wo))
        return [Choice("position", "output", positions, "slider"), Choice("show", "show", SHOW, "buttons")]

    def _make_controls(self, widgets):
        ho, wo = self.output_shape(self.state["stride"], self.state["padding"])
        return {
            "position": widgets.IntSlider(value=self.state["position"], min=0, max=ho * wo - 1,
                                          description="position", continuous_update=False),
            "show": widgets.ToggleButtons(options=SHOW, value=self.state["show"], description="show",
                                          style={"button_width": "auto"}),
            "stride": widgets.ToggleButtons(options=[1, 2, 3], value=self.state["stride"], description="stride",
                                            style={"button_width": "40px"}),
            "padding": widgets.ToggleButtons(options=[0, 1, 2], value=self.state["padding"], description="padding",
                                             style={"button_width": "40px"}),
        }

    def _sync(self, controls):
        ho, wo = self.output_shape(self.state["stride"], self.state["padding"])
        controls["position"].max = ho * wo - 1
