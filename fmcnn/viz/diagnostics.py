"""Diagnostics of a training run: what to watch inside a network while it trains.

:func:`trace_training` trains a :class:`~fmcnn.nn.Sequential` and measures, at every
step and from that step's own forward and backward pass (recorded by
:func:`fmcnn.viz.record`):

- the update-to-weight ratio of every weight, ||w_after - w_before|| / ||w_before||;
- the fraction of dead units of every ReLU: units that are zero for every example of the batch;
- the batch mean and variance of every BatchNorm's input and its running statistics, per channel;

and it keeps the whole :class:`~fmcnn.viz.Recording` of chosen steps, for histograms
of every layer's activations and gradients. The diagnostics chapter of the book
(``book/09b_diagnostics``) reads each of them on a healthy run and on broken ones.
"""
from dataclasses import dataclass, field

import numpy as np

from ..nn import BatchNorm2D, ReLU
from ..nn.batchnorm import AXES
from .record import record


def update_ratio(before, after):
    """||after - before|| / ||before||: how much one step changed a parameter, relative to its size.

    before, after: arrays of the same shape (a parameter before and after the step) -> float.
    """
    before = np.asarray(before, dtype=np.float64)
    return float(np.linalg.norm(np.asarray(after, dtype=np.float64) - before) / np.linalg.norm(before))


def dead_fraction(activation):
    """Fraction of the units of a ReLU's output that are zero for every example of the batch.

    activation: (N, ...) -> float. A unit is one position of the output after the batch
    axis: a channel at a pixel, (C, H, W), after a convolution; a feature, (D,), after a
    fully connected layer. A unit that is zero for every example passes no gradient to
    its weights for the whole batch.
    """
    return float(1.0 - np.any(activation > 0, axis=0).mean())


@dataclass
class Trace:
    """What :func:`trace_training` measured; T steps, numbered from 1 (fewer than asked if the loss diverged).

    Attributes:
        loss: mean cross-entropy of each step's batch, before its update, (T,).
        accuracy: fraction of the batch classified correctly, (T,).
        lr: learning rate of each step, (T,).
        update_ratio: ``{weight name: (T,)}``, see :func:`update_ratio`, for every
            parameter called ``weight`` (convolution, BatchNorm's gamma, fully connected);
            the biases start at zero, where the ratio is undefined.
        dead: ``{ReLU name: (T,)}``, see :func:`dead_fraction`.
        bn: ``{BatchNorm name: {"batch_mean", "batch_var", "running_mean", "running_var": (T, C)}}``:
            the mean and biased variance of the layer's input over (N, H, W) in each
            batch (what it normalizes with in training), and its running statistics
            after that step (what it normalizes with in evaluation).
        recordings: ``{step: Recording}`` of the steps asked for, made before that step's update;
            their gradients are those of the batch's *summed* loss, that is each example's own.
        diverged_at: the step whose loss was NaN or infinite (not taken), or None.
    """

    loss: np.ndarray
    accuracy: np.ndarray
    lr: np.ndarray
    update_ratio: dict
    dead: dict
    bn: dict
    recordings: dict = field(default_factory=dict)
    diverged_at: int = None

    @property
    def steps(self):
        """Step numbers 1..T, (T,)."""
        return np.arange(1, len(self.loss) + 1)


def trace_training(model, optimizer, batches, lrs=None, keep=()):
    """Train ``model`` with ``optimizer`` on ``batches``, measuring every step; returns a :class:`Trace`.

    Args:
        model: a :class:`fmcnn.nn.Sequential` ending in class scores (N, K).
        optimizer: an optimizer over ``model.parameters()`` (``fmcnn.optim``).
        batches: iterable of ``(x, y)``: inputs (N, C, H, W) and integer labels (N,); one step each.
        lrs: learning rate of each step (a sequence at least as long as ``batches``),
            or None to keep ``optimizer.lr``. An increasing sequence makes this a
            learning-rate range test.
        keep: step numbers (from 1) whose :class:`~fmcnn.viz.Recording` to keep.

    Each step is the usual one (zero the gradients, forward, mean cross-entropy, backward,
    update), with :func:`fmcnn.viz.record` as its forward and backward pass. ``record``
    differentiates the loss summed over the batch, so the gradients are divided by N
    before the update, giving the mean loss's gradients. Training stops at the first
    step whose loss is NaN or infinite, before updating (``Trace.diverged_at``).
    """
    names = list(model.names)
    weights = {n: p for n, p in model.named_parameters() if n.endswith(".weight")}
    relus = [n for n, layer in model.named_layers() if isinstance(layer, ReLU)]
    # A BatchNorm's input is the previous layer's output (the network's input for a first layer).
    bn_inputs = {n: names[i - 1] if i else None for i, (n, layer) in enumerate(model.named_layers())
                 if isinstance(layer, BatchNorm2D)}
    rows, recordings, diverged_at = [], {}, None
    for step, (x, y) in enumerate(batches, start=1):
        if lrs is not None:
            optimizer.lr = lrs[step - 1]
        optimizer.zero_grad()
        rec = record(model, x, y, objective="loss", mode="train", restore=False)
        loss = float(rec.values.mean())
        if not np.isfinite(loss):
            diverged_at = step
            break
        before = {n: p.data.copy() for n, p in weights.items()}
        for p in model.parameters():
            p.grad /= len(x)
        optimizer.step()
        bn = {}
        for n, source in bn_inputs.items():
            h = rec.input if source is None else rec.activations[source]
            layer = model[n]
            bn[n] = dict(batch_mean=h.mean(axis=AXES), batch_var=h.var(axis=AXES),
                         running_mean=layer.running_mean.copy(), running_var=layer.running_var.copy())
        rows.append(dict(loss=loss, accuracy=float(np.mean(rec.predictions == y)), lr=optimizer.lr,
                         ratio={n: update_ratio(before[n], p.data) for n, p in weights.items()},
                         dead={n: dead_fraction(rec.activations[n]) for n in relus}, bn=bn))
        if step in keep:
            recordings[step] = rec
    return Trace(loss=np.array([r["loss"] for r in rows]), accuracy=np.array([r["accuracy"] for r in rows]),
                 lr=np.array([r["lr"] for r in rows]),
                 update_ratio={n: np.array([r["ratio"][n] for r in rows]) for n in weights},
                 dead={n: np.array([r["dead"][n] for r in rows]) for n in relus},
                 bn={n: {k: np.array([r["bn"][n][k] for r in rows]).reshape(len(rows), model[n].num_features)
                         for k in ("batch_mean", "batch_var", "running_mean", "running_var")} for n in bn_inputs},
                 recordings=recordings, diverged_at=diverged_at)
