"""MaxPoolExplorer: which input receives each output's gradient in max pooling, ties included."""
import numpy as np

from ...nn import conv_output_size
from .base import Explorer, annotate, outline, short_number, show_array, suptitle
from .precomputed import Choice

RULES = (("first maximum", "first"), ("every tied maximum (wrong)", "mask"))
"""The options of the tie-rule control: (label, setting)."""

POOLS = ((2, 2), (3, 2), (2, 1), (3, 3), (4, 4))
"""The (window size, stride) pairs of the live mode's pooling control."""


def pool_label(pool):
    """ "2x2, stride 2" for (2, 2)."""
    return f"{pool[0]}x{pool[0]}, stride {pool[1]}"


class MaxPoolExplorer(Explorer):
    """Max pooling's backward pass, window by window. Each output is the maximum of one
    window, so its upstream gradient goes to the position of that maximum; on a tie, to
    the first tied maximum in row-major order (the rule of ``fmcnn.nn.MaxPool2D`` and
    PyTorch), or, with the tempting mask rule that is wrong, to every tied maximum.

    The upstream gradient G is 1, 2, ..., Ho * Wo in row-major order, so every number in
    dx tells which outputs it came from (with overlapping windows, a sum of them).

    Args:
        inputs: ``{name: (H, W) array}``, the maps to pool (e.g. a garment's edge map after
            ReLU, whose zeros make many ties); ``input``: the name shown first.
        pool: ``(k, s)``, the window size and stride.
        rule: "first" or "mask".
        window: the window whose gradient is traced, in row-major order, or -1 for all windows.

    The pictures drawn in advance show every input, rule and window for the window sizes
    and strides of ``precomputed_pools``; live mode has more of them.
    """

    figsize = (11, 4.0)
    live_note = "other window sizes and strides"

    def __init__(self, inputs, input=None, pool=(2, 2), rule="first", window=-1, precomputed_pools=((2, 2), (3, 2))):
        self.inputs = {name: np.asarray(x, dtype=np.float64) for name, x in inputs.items()}
        self.precomputed_pools = [tuple(p) for p in precomputed_pools]
        super().__init__(input=next(iter(self.inputs)) if input is None else input, pool=tuple(pool), rule=rule,
                         window=window)

    def _clean(self, state):
        if state["input"] not in self.inputs:
            raise ValueError(f"no input {state['input']!r}; inputs: {', '.join(self.inputs)}")
        k, s = state["pool"] = tuple(int(v) for v in state["pool"])
        H, W = self.inputs[state["input"]].shape
        if not 1 <= k <= min(H, W) or s < 1:
            raise ValueError(f"pool must be (k, s) with 1 <= k <= {min(H, W)} and s >= 1, got {(k, s)}")
        if state["rule"] not in dict(map(reversed, RULES)):
            raise ValueError(f"rule must be 'first' or 'mask', got {state['rule']!r}")
        state["window"] = int(np.clip(int(state["window"]), -1, self.windows(state) - 1))
        return state

    def windows(self, state):
        """The number of windows, Ho * Wo, of the input and pooling of ``state``."""
        k, s = state["pool"]
        return int(np.prod([conv_output_size(n, k, s) for n in self.inputs[state["input"]].shape]))

    def routes(self, input, pool, rule):
        """For every window, in row-major order: ``(top, left, receivers)``, its corner in the input
        and the input positions ``[(row, col), ...]`` that its output's gradient goes to."""
        x = self.inputs[input]
        k, s = pool
        out = []
        for i in range(conv_output_size(x.shape[0], k, s)):
            for j in range(conv_output_size(x.shape[1], k, s)):
                block = x[i * s:i * s + k, j * s:j * s + k]
                maxima = [(i * s + a, j * s + b) for a, b in zip(*np.nonzero(block == block.max()))]
                out.append((i * s, j * s, maxima[:1] if rule == "first" else maxima))
        return out

    def backward(self, input, pool, rule, window=-1):
        """``(G, dx)``: the upstream gradient 1, 2, ... and the input gradient it produces
        (only window ``window``'s share, unless -1)."""
        x = self.inputs[input]
        routes = self.routes(input, pool, rule)
        shape = tuple(conv_output_size(n, pool[0], pool[1]) for n in x.shape)
        G = np.arange(1.0, len(routes) + 1).reshape(shape)
        dx = np.zeros_like(x)
        for r, (_, _, receivers) in enumerate(routes):
            if window in (-1, r):
                for position in receivers:
                    dx[position] += G.flat[r]
        return G, dx

    def _draw_into(self, fig, input, pool, rule, window):
        x = self.inputs[input]
        k, s = pool
        routes = self.routes(input, pool, rule)
        G, dx = self.backward(input, pool, rule, window)
        out = np.array([x[t:t + k, c:c + k].max() for t, c, _ in routes]).reshape(G.shape)
        widths = [x.shape[1], G.shape[1], G.shape[1], x.shape[1]]
        scale = 0.92 / (sum(widths) + 1.5 * len(widths))
        left, axes = 0.01, []
        for width in widths:
            axes.append(fig.add_axes((left, 0.04, width * scale, 0.74)))
            left += (width + 1.5) * scale
        ax_x, ax_out, ax_g, ax_dx = axes
        size = 8 if max(x.shape) <= 10 else 5
        # light-to-dark color maps, so that annotate() writes white on the dark (large) values
        values = ("Blues", min(float(x.min()), 0.0), max(float(x.max()), 1e-12))
        panels = ((ax_x, x, f"{input} ({x.shape[0]}x{x.shape[1]})", values),
                  (ax_out, out, f"max pooled ({pool_label(pool)})", values),
                  (ax_g, G, "upstream gradient G", ("Purples", 0, float(G.max()))),
                  (ax_dx, dx, "dx", ("Oranges", 0, max(float(dx.max()), 1.0))))
        for ax, array, title, scale in panels:
            show_array(ax, array, title, 9, scale=scale)
            annotate(ax, array, size, scale[2], skip_zeros=ax is ax_dx)
        ties = [len(np.flatnonzero(x[t:t + k, c:c + k] == x[t:t + k, c:c + k].max())) for t, c, _ in routes]
        if window == -1:
            total, expected = dx.sum(), G.sum()
            verdict = (f"= sum of G ({short_number(expected)})" if total == expected
                       else f"but sum of G = {short_number(expected)}: each tie passed its gradient on several times")
            text = (f"all {len(routes)} windows, {sum(t > 1 for t in ties)} with a tie for the maximum:  "
                    f"sum of dx = {short_number(total)} {verdict}")
        else:
            top, lft, receivers = routes[window]
            i, j = divmod(window, G.shape[1])
            for ax in (ax_x, ax_dx):
                outline(ax, top, lft, k, k, "#1f77b4")
                for r, c in receivers:
                    outline(ax, r, c, 1, 1, "#d62728")
            outline(ax_out, i, j, 1, 1, "#1f77b4")
            outline(ax_g, i, j, 1, 1, "#1f77b4")
            where = ", ".join(f"({r}, {c})" for r, c in receivers)
            tie = f"a tie between {ties[window]} positions, " if ties[window] > 1 else ""
            text = (f"window ({i}, {j}): maximum {short_number(out[i, j])}, {tie}G = {short_number(G[i, j])} "
                    f"goes to {where}")
        suptitle(fig, text)

    def precomputed_choices(self):
        most = max(self.windows({**self.state, "pool": p}) for p in self.precomputed_pools)
        windows = (("all", -1),) + tuple((str(r), r) for r in range(most))
        choices = [Choice("input", "input", tuple((n, n) for n in self.inputs))] if len(self.inputs) > 1 else []
        return choices + [Choice("pool", "pooling", tuple((pool_label(p), p) for p in self.precomputed_pools)),
                          Choice("rule", "on a tie", RULES, "buttons"),
                          Choice("window", "window", windows, "slider")]

    def _make_controls(self, widgets):
        pools = list(dict.fromkeys([*self.precomputed_pools, *POOLS, self.state["pool"]]))
        return {
            "input": widgets.Dropdown(options=list(self.inputs), value=self.state["input"], description="input"),
            "pool": widgets.Dropdown(options=[(pool_label(p), p) for p in pools], value=self.state["pool"],
                                     description="pooling"),
            "rule": widgets.ToggleButtons(options=RULES, value=self.state["rule"], description="on a tie",
                                          style={"button_width": "auto"}),
            "window": widgets.IntSlider(value=self.state["window"], min=-1,
                                        max=self.windows(self.state) - 1,
                                        description="window", continuous_update=False),
        }

    def _sync(self, controls):
        controls["window"].max = self.windows(self.state) - 1
