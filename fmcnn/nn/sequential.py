"""A chain of layers, run forward in order and backward in reverse."""
import numpy as np

from .module import Module


class Sequential(Module):
    """Apply layers one after the other.

    Layers are named by kind and position (conv1, bn1, relu1, pool1, conv2, ...,
    fc1, ...), so parameters get names like ``conv1.weight``. Index with an
    integer (``model[0]``) or a name (``model["conv1"]``).
    """

    def __init__(self, *layers):
        self.layers = list(layers)
        counts = {}
        self.names = []
        for layer in self.layers:
            kind = getattr(layer, "short_name", type(layer).__name__.lower())
            counts[kind] = counts.get(kind, 0) + 1
            self.names.append(f"{kind}{counts[kind]}")

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self.names:
                raise KeyError(f"no layer named {key!r}; layers are {', '.join(self.names)}")
            return self.layers[self.names.index(key)]
        return self.layers[key]

    def __len__(self):
        return len(self.layers)

    def __iter__(self):
        return iter(self.layers)

    def named_layers(self):
        """Yield ``(name, layer)`` pairs in order."""
        return zip(self.names, self.layers)

    def forward(self, x):
        """Run every layer's forward pass in order."""
        for layer in self.layers:
            x = layer.forward(x)
        return x

    def backward(self, grad_out):
        """Run every layer's backward pass in reverse order; returns dL/d(input)."""
        for layer in reversed(self.layers):
            grad_out = layer.backward(grad_out)
        return grad_out

    def named_parameters(self, prefix=""):
        for name, layer in self.named_layers():
            yield from layer.named_parameters(f"{prefix}{name}.")

    def named_buffers(self, prefix=""):
        for name, layer in self.named_layers():
            yield from layer.named_buffers(f"{prefix}{name}.")

    def train(self, mode=True):
        self.training = mode
        for layer in self.layers:
            layer.train(mode)
        return self

    def to(self, dtype):
        for layer in self.layers:
            layer.to(dtype)
        return self

    def summary(self, input_shape=(1, 28, 28)):
        """Return the layer table (name, type, output shape, parameters) and the total as text.

        ``input_shape`` is one example's shape (C, H, W); shapes are found by
        running a forward pass on a batch of one in evaluation mode.
        """
        was_training = self.training
        self.eval()
        x = np.zeros((1, *input_shape), dtype=np.float32)
        rows = [("Layer", "Type", "Output shape", "Params")]
        for name, layer in self.named_layers():
            x = layer.forward(x)
            rows.append((name, type(layer).__name__, str((None, *x.shape[1:])), f"{layer.num_parameters():,}"))
        self.train(was_training)
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        rule = "-" * (sum(widths) + 6)

        def fmt(r):
            return f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:<{widths[2]}}  {r[3]:>{widths[3]}}"

        lines = [fmt(rows[0]), rule] + [fmt(r) for r in rows[1:]] + [rule, f"Total parameters: {self.num_parameters():,}"]
        return "\n".join(lines)

    def extra_repr(self):
        return "\n" + "\n".join(f"  ({n}): {layer!r}" for n, layer in self.named_layers()) + "\n"
