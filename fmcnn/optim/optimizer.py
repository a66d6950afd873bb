"""What every optimizer shares: the parameters it updates and zeroing their gradients."""


class Optimizer:
    """Base class: holds a list of Parameters and a learning rate ``lr``."""

    def __init__(self, params, lr):
        self.params = list(params)
        if not self.params:
            raise ValueError("The optimizer got no parameters; pass model.parameters().")
        self.lr = lr

    def zero_grad(self):
        """Set every gradient to zero before the next backward pass (gradients accumulate)."""
        for p in self.params:
            p.grad[...] = 0

    def step(self):
        raise NotImplementedError

    def state_dict(self):
        """Arrays and numbers needed to resume exactly where training stopped."""
        return {}

    def load_state_dict(self, state):
        pass
