"""Stochastic gradient descent with momentum."""
import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """SGD with optional (heavy-ball) momentum and L2 weight decay, as in PyTorch:

        g = grad + weight_decay * p
        v = momentum * v + g
        p = p - lr * v
    """

    def __init__(self, params, lr, momentum=0.0, weight_decay=0.0):
        super().__init__(params, lr)
        self.momentum, self.weight_decay = momentum, weight_decay
        self.velocity = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        """Update every parameter in place from its ``.grad``."""
        for p, v in zip(self.params, self.velocity):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            if self.momentum:
                v *= self.momentum
                v += g
                g = v
            p.data -= self.lr * g

    def state_dict(self):
        return {f"velocity.{i}": v for i, v in enumerate(self.velocity)}

    def load_state_dict(self, state):
        for i, v in enumerate(self.velocity):
            v[...] = state[f"velocity.{i}"]
