"""TrainingExplorer: conv filters and feature maps at every saved checkpoint of a training run."""
import numpy as np

from ...preprocess import to_input
from ..filters import color_scale, draw_filters, draw_image, draw_maps
from ..record import record
from .base import Explorer, suptitle
from .precomputed import Choice


def _resample(tiles, side):
    """Nearest-neighbour resize of tiles (n, k, k) to (n, side, side): small filters drawn as big as maps."""
    idx = (np.arange(side) * tiles.shape[-1]) // side
    return tiles[:, idx][:, :, idx]


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

    All checkpoints are loaded once, when the explorer is made. The picture of every
    checkpoint is drawn in advance, so the slider needs no Python.
    """

    figsize = (11, 5.0)

    def __init__(self, model, checkpoints, image, title="", eval_data=None, layer="conv1", maps_layer=None,
                 normalize=True, step=None):
        from ...checkpoint import load_checkpoint
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
        suptitle(fig, text)

    def precomputed_choices(self):
        return [Choice("step", "step", tuple((str(s), s) for s in self.steps), "slider")]
