"""The layer contract every part of fmcnn follows.

A layer is a :class:`Module`. ``forward(x)`` computes the output and caches
what the backward pass will need; ``backward(grad_out)`` receives dL/d(output),
*adds* dL/d(parameter) into each ``Parameter.grad`` and returns dL/d(input).
Optimizers only ever see :class:`Parameter` objects.
"""
import numpy as np


class Parameter:
    """A trainable array together with the gradient of the loss with respect to it.

    Attributes:
        data: the values, any shape.
        grad: same shape and dtype as ``data``; backward passes add into it.
        name: a dotted name such as ``"conv1.weight"`` once inside a ``Sequential``.
    """

    def __init__(self, data, name=""):
        self.data = data
        self.grad = np.zeros_like(data)
        self.name = name

    def __repr__(self):
        return f"Parameter({self.name!r}, shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every layer: forward, backward, parameters, train/eval modes.

    Subclasses list their :class:`Parameter` attributes in ``_param_names`` and
    their non-trainable state (e.g. BatchNorm's running statistics) in
    ``_buffer_names``; both go into checkpoints through :meth:`state_dict`.
    """

    _param_names = ()
    _buffer_names = ()
    training = True

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, x):
        raise NotImplementedError

    def backward(self, grad_out):
        raise NotImplementedError

    def named_parameters(self, prefix=""):
        """Yield ``(name, Parameter)`` pairs, names dotted with ``prefix``."""
        for name in self._param_names:
            yield prefix + name, getattr(self, name)

    def parameters(self):
        """Yield every :class:`Parameter` of this module."""
        for _, p in self.named_parameters():
            yield p

    def named_buffers(self, prefix=""):
        """Yield ``(name, array)`` for state that is saved but not trained."""
        for name in self._buffer_names:
            yield prefix + name, getattr(self, name)

    def num_parameters(self):
        """Total number of trainable scalars."""
        return sum(p.data.size for p in self.parameters())

    def zero_grad(self):
        """Reset every parameter gradient to zero (backward passes accumulate)."""
        for p in self.parameters():
            p.grad[...] = 0

    def train(self, mode=True):
        """Switch to training mode (``mode=False`` is evaluation mode). Returns self."""
        self.training = mode
        return self

    def eval(self):
        """Switch to evaluation mode: BatchNorm uses its running statistics."""
        return self.train(False)

    def check_input(self, x, ndim, what):
        """Raise a clear error unless ``x`` is a floating-point array of ``ndim`` dims
        (``what`` names them, e.g. "(N, C, H, W)") with the dtype of this layer's parameters
        and buffers: one dtype per model, chosen by :meth:`to`, so no formula needs a cast."""
        layer = type(self).__name__
        check_input(x, ndim, layer, what)
        arrays = [(name, p.data) for name, p in self.named_parameters()] + list(self.named_buffers())
        for name, array in arrays:
            if array.dtype != x.dtype:
                raise TypeError(f"{layer} holds {name} as {array.dtype} but got a {x.dtype} input. Use one dtype: "
                                f"convert the input with x.astype(np.{array.dtype}), or the model with "
                                f"model.to(np.{x.dtype}).")

    def to(self, dtype):
        """Cast parameters, gradients and buffers to ``dtype`` (e.g. ``np.float64``
        for gradient checking). Returns self."""
        for p in self.parameters():
            p.data = p.data.astype(dtype)
            p.grad = np.zeros_like(p.data)
        for name, value in self.named_buffers():
            setattr(self, name.rsplit(".", 1)[-1], value.astype(dtype))
        return self

    def state_dict(self):
        """Return ``{name: array copy}`` of every parameter and buffer: what a checkpoint holds."""
        state = {name: p.data.copy() for name, p in self.named_parameters()}
        state.update((name, b.copy()) for name, b in self.named_buffers())
        return state

    def load_state_dict(self, state):
        """Copy arrays from ``state`` (as made by :meth:`state_dict`) into this module.

        Raises ValueError listing every missing, unexpected or mis-shaped entry,
        so a checkpoint from another architecture cannot load half-way.
        """
        targets = {name: p.data for name, p in self.named_parameters()}
        targets.update(self.named_buffers())
        lines = state_mismatches(targets, state)
        if lines:
            raise ValueError("The checkpoint does not match the model:\n  " + "\n  ".join(lines)
                             + "\nWas it saved from a different architecture?")
        for name, array in targets.items():
            array[...] = state[name]

    def extra_repr(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self.extra_repr()})"


def state_mismatches(targets, state, owner="model"):
    """Why ``state`` ({name: array}) cannot be copied into ``targets`` ({name: array}) of the
    ``owner``: a list of lines naming every missing, unexpected or mis-shaped entry (empty if none)."""
    missing = sorted(set(targets) - set(state))
    unexpected = sorted(set(state) - set(targets))
    mismatched = [f"{n}: checkpoint {tuple(np.shape(state[n]))} vs {owner} {np.shape(targets[n])}"
                  for n in targets if n in state and np.shape(state[n]) != np.shape(targets[n])]
    return ([f"missing from the checkpoint: {', '.join(missing)}"] if missing else []) + \
           ([f"not in the {owner}: {', '.join(unexpected)}"] if unexpected else []) + \
           ([f"shape mismatch: {'; '.join(mismatched)}"] if mismatched else [])


def check_input(x, ndim, layer, what="(N, C, H, W)"):
    """Raise a clear error unless ``x`` is a floating-point NumPy array of ``ndim`` dims.

    Values are not checked for NaNs here: that would cost a pass over every
    activation; training checks its loss and parameters instead (fmcnn.train)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{layer} expects a NumPy array {what}, got {type(x).__name__}. "
                        "Convert with np.asarray(x, dtype=np.float32).")
    if x.ndim != ndim:
        raise ValueError(f"{layer} expects input of shape {what}, got shape {x.shape}. "
                         "Check the previous layer's output (model.summary() shows every shape).")
    if x.dtype.kind != "f":
        raise TypeError(f"{layer} expects floating-point input, got dtype {x.dtype}. "
                        "Convert images with x.astype(np.float32) / 255 first.")
