"""Adam: per-parameter step sizes from running moments of the gradient."""
import numpy as np

from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with L2 weight decay added to the gradient, as in PyTorch:

        g = grad + weight_decay * p
        m = beta1 * m + (1 - beta1) * g          (mean of g)
        v = beta2 * v + (1 - beta2) * g^2        (uncentered variance of g)
        p = p - lr * m_hat / (sqrt(v_hat) + eps), with m_hat = m / (1 - beta1^t), v_hat = v / (1 - beta2^t)

    The bias corrections undo the pull of m and v towards their zero start.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, lr)
        self.beta1, self.beta2 = betas
        self.eps, self.weight_decay = eps, weight_decay
        self.t = 0
        self.m = [np.zeros_like(p.data) for p in self.params]
        self.v = [np.zeros_like(p.data) for p in self.params]

    def step(self):
        """Update every parameter in place from its ``.grad``."""
        self.t += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr * np.sqrt(1 - b2 ** self.t) / (1 - b1 ** self.t)
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad + self.weight_decay * p.data if self.weight_decay else p.grad
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            # Folding both corrections into step_size and eps is PyTorch's exact arithmetic.
            p.data -= step_size * m / (np.sqrt(v) + self.eps * np.sqrt(1 - b2 ** self.t))

    def state_dict(self):
        state = {"t": np.array(self.t)}
        state.update({f"m.{i}": m for i, m in enumerate(self.m)})
        state.update({f"v.{i}": v for i, v in enumerate(self.v)})
        return state

    def load_state_dict(self, state):
        self.t = int(state["t"])
        for i, (m, v) in enumerate(zip(self.m, self.v)):
            m[...] = state[f"m.{i}"]
            v[...] = state[f"v.{i}"]
