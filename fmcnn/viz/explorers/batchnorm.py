"""BatchNormExplorer: one channel's batch statistics, training versus evaluation mode, and the running averages."""
import numpy as np

from ...nn import BatchNorm2D
from .base import Explorer, suptitle
from .precomputed import Choice

MODES = (("training", "train"), ("evaluation", "eval"))
"""The options of the mode control: (label, setting)."""


class BatchNormExplorer(Explorer):
    """Batch normalization of one channel, batch after batch, computed by ``fmcnn.nn.BatchNorm2D``.

    Batch t (of ``batch_size`` examples, in a random order fixed by ``seed``) is normalized
    in training mode with its own mean and variance, and updates the running averages
    with weight ``momentum``; in evaluation mode, the layer uses the running averages
    after t batches instead. The picture shows the batch's values, the layer's output
    for it, and the running mean and variance over all steps.

    Args:
        values: (N, H, W) one channel of N examples, e.g. training images' pixels in [0, 1].
        batch_size, steps: the batches (``steps * batch_size`` examples are used).
        momentum, step (1 to ``steps``), mode ("train" or "eval"): the settings shown first.
        precomputed_momenta, precomputed_steps: the values whose pictures are drawn in
            advance (both modes for each); live mode shows any momentum and every step.
    """

    figsize = (11, 3.3)
    live_note = "any momentum and every step"

    def __init__(self, values, batch_size=64, steps=100, momentum=0.1, step=1, mode="train", seed=0,
                 precomputed_momenta=(0.01, 0.1, 0.5, 0.9), precomputed_steps=(1, 2, 5, 10, 20, 50, 100)):
        values = np.asarray(values, dtype=np.float64)
        if len(values) < batch_size * steps:
            raise ValueError(f"{steps} batches of {batch_size} need {batch_size * steps} examples, got {len(values)}")
        order = np.random.default_rng(seed).permutation(len(values))[:batch_size * steps]
        self.batches = values[order].reshape(steps, batch_size, 1, *values.shape[1:])   # (steps, B, 1, H, W)
        self.data_mean, self.data_var = float(values.mean()), float(values.var())
        self.steps = steps
        self.precomputed_momenta = list(precomputed_momenta)
        self.precomputed_steps = [t for t in precomputed_steps if t <= steps]
        self._running = {}
        # one x range for every picture: the data, standardized or not, with a margin
        standardized = (np.array([values.min(), values.max()]) - self.data_mean) / np.sqrt(self.data_var)
        self.x_range = (min(values.min(), standardized[0]) - 0.2, max(values.max(), standardized[1]) + 0.2)
        super().__init__(momentum=momentum, step=step, mode=mode)

    def _clean(self, state):
        state["momentum"] = float(state["momentum"])
        if not 0 < state["momentum"] <= 1:
            raise ValueError(f"momentum must be in (0, 1], got {state['momentum']}")
        state["step"] = int(np.clip(int(state["step"]), 1, self.steps))
        if state["mode"] not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {state['mode']!r}")
        return state

    def running(self, momentum):
        """The layer's running mean and variance before the first batch and after each one: two (steps + 1,) arrays."""
        if momentum not in self._running:
            layer = BatchNorm2D(1, momentum=momentum).to(np.float64)
            stats = [(layer.running_mean[0], layer.running_var[0])]
            for batch in self.batches:
                layer(batch)                                # training mode: updates the running statistics
                stats.append((layer.running_mean[0], layer.running_var[0]))
            self._running[momentum] = tuple(np.array(column) for column in zip(*stats))
        return self._running[momentum]

    def output(self, momentum, step, mode):
        """The layer's output for batch ``step`` in ``mode``, after ``step`` batches: (batch_size, 1, H, W)."""
        means, variances = self.running(momentum)
        layer = BatchNorm2D(1, momentum=momentum).to(np.float64)
        layer.running_mean[:], layer.running_var[:] = means[step], variances[step]
        return layer.train(mode == "train")(self.batches[step - 1])

    def _draw_into(self, fig, momentum, step, mode):
        batch = self.batches[step - 1]
        y = self.output(momentum, step, mode)
        means, variances = self.running(momentum)
        bins = np.linspace(*self.x_range, 41)
        ax_in, ax_out = fig.add_axes((0.03, 0.15, 0.21, 0.64)), fig.add_axes((0.28, 0.15, 0.21, 0.64))
        for ax, v, title in ((ax_in, batch, f"batch {step}: {batch.size:,} values"),
                             (ax_out, y, f"output in {dict(map(reversed, MODES))[mode]} mode")):
            # a log scale: half of the pixels are background, and their peak would flatten the rest
            ax.stairs(np.histogram(v, bins)[0] + 1, bins, fill=True, color="#9aa5b1", baseline=1)
            ax.set_yscale("log")
            ax.axvline(v.mean(), color="black", lw=1.5, label="batch mean" if ax is ax_in else "mean")
            ax.set_xlim(*self.x_range)
            ax.set_yticks([])
            ax.minorticks_off()
            ax.tick_params(labelsize=7)
            ax.set_title(title, fontsize=9)
            ax.set_xlabel(f"mean {v.mean():.3f}, variance {v.var():.3f}", fontsize=8)
        ax_in.axvline(means[step], color="#e67e22", lw=1.5, ls="--", label="running mean")
        ax_in.legend(fontsize=7, loc="upper right", frameon=False)
        t = np.arange(self.steps + 1)
        for k, (values, target, name) in enumerate(((means, self.data_mean, "running mean"),
                                                    (variances, self.data_var, "running variance"))):
            ax = fig.add_axes((0.56 + 0.23 * k, 0.15, 0.19, 0.64))
            ax.plot(t, values, color="#e67e22", lw=1.2)
            ax.axhline(target, color="black", ls="--", lw=0.8)
            ax.plot([step], [values[step]], "o", color="#e67e22")
            ax.set_xlabel("batches (dashed: all the data)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.set_title(f"{name}: {values[step]:.3f}", fontsize=9)
        batches = f"{step} batch" + ("es" if step > 1 else "")
        suptitle(fig, f"momentum {momentum:g}, after {batches}: the initial running values (0 and 1) "
                      f"still weigh (1 - momentum)^{step} = {(1 - momentum) ** step:.3f}")

    def precomputed_choices(self):
        return [Choice("momentum", "momentum", tuple((f"{m:g}", m) for m in self.precomputed_momenta), "slider"),
                Choice("step", "batches", tuple((str(t), t) for t in self.precomputed_steps), "slider"),
                Choice("mode", "mode", MODES, "buttons")]

    def _make_controls(self, widgets):
        return {
            "momentum": widgets.FloatSlider(value=self.state["momentum"], min=0.01, max=1.0, step=0.01,
                                            description="momentum", continuous_update=False),
            "step": widgets.IntSlider(value=self.state["step"], min=1, max=self.steps, description="batches",
                                      continuous_update=False),
            "mode": widgets.ToggleButtons(options=MODES, value=self.state["mode"], description="mode",
                                          style={"button_width": "auto"}),
        }
