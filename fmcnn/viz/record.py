"""Recording what happens inside a :class:`~fmcnn.nn.Sequential`: every layer's
output (activation) and the gradient of an objective with respect to it.

The recording is a *traced* forward and backward pass: we call each layer's
``forward`` in order, keep its output, then call each layer's ``backward`` in
reverse order and keep the gradient that flows into it. Nothing in the layers
changes, so any Sequential built from fmcnn layers can be recorded.
"""
from dataclasses import dataclass, field

import numpy as np

from ..gradcheck import _restoring_buffers
from ..nn import softmax


@dataclass
class Recording:
    """What :func:`record` saw for a batch of inputs.

    Attributes:
        names: layer names in order (``conv1``, ``bn1``, ...).
        input: the input batch ``x``, (N, C, H, W).
        activations: ``{name: output of that layer}``, e.g. ``activations["conv1"]`` is (N, 6, 28, 28).
        logits: output of the last layer, (N, K).
        probs: softmax of the logits, (N, K).
        targets: the class each example's objective was computed for, (N,).
        objective: ``"loss"`` or ``"score"`` (see :func:`record`).
        values: the objective of each example, (N,).
        grads: ``{name: d objective / d(output of that layer)}``, same shapes as ``activations``.
        input_grad: d objective / d input, same shape as ``input`` (the saliency map);
            None if the first layer skips it (``Conv2D.input_grad = False``, as in training).
    """

    names: list
    input: np.ndarray
    activations: dict
    logits: np.ndarray
    probs: np.ndarray
    targets: np.ndarray
    objective: str
    values: np.ndarray
    grads: dict = field(default_factory=dict)
    input_grad: np.ndarray = None

    @property
    def predictions(self):
        """Predicted class of each example, (N,)."""
        return self.logits.argmax(axis=1)

    def maps(self, name, i=0):
        """Activation of layer ``name`` for example ``i``: (C, H, W) for conv-stage layers, (D,) after flatten."""
        return self.activations[name][i]

    def grad_maps(self, name, i=0):
        """Gradient of the objective with respect to layer ``name``'s output, for example ``i``."""
        return self.grads[name][i]


def record(model, x, targets=None, objective="loss", backward=True, mode="eval", restore=True):
    """Run ``model`` on ``x`` layer by layer, recording activations and gradients.

    Args:
        model: a :class:`fmcnn.nn.Sequential`.
        x: input batch (N, C, H, W), already preprocessed (e.g. by ``fmcnn.preprocess.to_input``).
        targets: class of each example (int or (N,) array) the gradients are taken for;
            ``None`` uses each example's predicted class.
        objective: ``"loss"``: the cross-entropy loss of each example,
            ``-log softmax(logits)[target]``; ``"score"``: the raw class score
            ``logits[target]``. Each example's objective depends on that example
            only, so its gradients are those of the example alone (the batch's
            objectives are *summed*, not averaged).
        backward: also run the backward pass (``grads``, ``input_grad``).
        mode: ``"eval"`` (BatchNorm uses its running statistics, the usual way to
            look at a trained network) or ``"train"`` (batch statistics).
        restore: leave the model as it was (the default): its train/eval mode is
            restored, the parameter gradients that the backward pass adds are
            removed again and, in ``"train"`` mode, so are the updates of BatchNorm's
            running statistics, so recording in the middle of training changes
            nothing. ``False`` keeps the gradients (of the *summed* objective) and the
            running statistics, so that the recording is also the forward and backward
            pass of a training step (:func:`fmcnn.viz.diagnostics.trace_training`);
            the train/eval mode is restored either way.

    Returns:
        a :class:`Recording`.
    """
    if objective not in ("loss", "score"):
        raise ValueError(f"objective must be 'loss' or 'score', got {objective!r}")
    if mode not in ("eval", "train"):
        raise ValueError(f"mode must be 'eval' or 'train', got {mode!r}")
    x = np.asarray(x)
    was_training = model.training
    model.train(mode == "train")
    saved_grads = [p.grad.copy() for p in model.parameters()] if backward and restore else None
    restore_buffers = _restoring_buffers(model) if restore else None
    try:
        names = list(model.names)
        activations = {}
        h = x
        for name, layer in model.named_layers():
            h = layer.forward(h)
            activations[name] = h.copy()   # a copy: a layer may reuse its output buffer on the next call
        logits = h
        probs = softmax(logits.astype(np.float64))
        n = len(logits)
        if targets is None:
            targets = logits.argmax(axis=1)
        targets = np.broadcast_to(np.asarray(targets, dtype=np.int64), (n,)).copy()
        rows = np.arange(n)
        if objective == "loss":
            values = -np.log(np.maximum(probs[rows, targets], 1e-300))
        else:
            values = logits[rows, targets].astype(np.float64)
        rec = Recording(names, x, activations, logits, probs.astype(logits.dtype), targets, objective, values)
        if backward:
            onehot = np.zeros_like(logits)
            onehot[rows, targets] = 1
            # d(-log softmax_t)/d logits = softmax - onehot;  d(logit_t)/d logits = onehot
            g = (probs.astype(logits.dtype) - onehot) if objective == "loss" else onehot
            for name, layer in reversed(list(model.named_layers())):
                rec.grads[name] = g.copy()     # a copy: a backward pass may modify its argument in place
                g = layer.backward(g)
            rec.input_grad = None if g is None else g.copy()   # None: conv1.input_grad = False, as in training
            rec.grads = {name: rec.grads[name] for name in names}   # in forward order
    finally:
        model.train(was_training)
        if restore:
            restore_buffers()
        if saved_grads is not None:
            for p, saved in zip(model.parameters(), saved_grads):
                p.grad[...] = saved
    return rec
