"""The course network: LeNet-5 with batch normalization."""
from pathlib import Path

import numpy as np

from .nn import BatchNorm2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential

PRETRAINED_PATH = Path(__file__).parent / "weights" / "lenet_bn.npz"


def lenet_bn(seed=0, pretrained=False, width=1):
    """Build LeNet-BN for 1 x 28 x 28 images and 10 classes (61,750 parameters).

    conv1 (1->6, 5x5, padding 2) -> bn1 -> relu1 -> pool1 (2x2)  : (N, 6, 14, 14)
    conv2 (6->16, 5x5)           -> bn2 -> relu2 -> pool2 (2x2)  : (N, 16, 5, 5)
    flatten -> fc1 (400->120) -> relu -> fc2 (120->84) -> relu -> fc3 (84->10)

    Args:
        seed: seeds the He initialization, so the same seed gives the same network.
        pretrained: load the course's trained weights (``fmcnn/weights/lenet_bn.npz``)
            and return the model in evaluation mode (only for ``width=1``).
        width: multiplies every layer's channels and hidden units (6, 16, 120, 84),
            the "wider LeNet" of the going-further chapter; 1 is LeNet-BN itself.
            The layer names, and so the checkpoint keys, stay the same.
    """
    if not (isinstance(width, (int, np.integer)) and width >= 1):
        raise ValueError(f"width must be a whole number >= 1, got {width!r}")
    if pretrained and width != 1:
        raise ValueError("pretrained weights exist only for width=1 (LeNet-BN itself).")
    model = _lenet(seed, width, batch_norm=True)
    if pretrained:
        from .checkpoint import load_checkpoint

        if not PRETRAINED_PATH.exists():
            raise FileNotFoundError(f"No pretrained weights at {PRETRAINED_PATH}. "
                                    "Reinstall fmcnn, or train a model with `fmcnn train` and load its checkpoint.")
        load_checkpoint(PRETRAINED_PATH, model)
        model.eval()
    return model


def lenet_plain(seed=0):
    """LeNet-BN without its two BatchNorm2D layers (61,706 parameters): the network of the
    batch-normalization and initialization experiments (chapters 7 and 8).

    The same seed gives the same initial weights as ``lenet_bn(seed)``, layer for layer,
    because BatchNorm draws no random numbers.
    """
    return _lenet(seed, 1, batch_norm=False)


def _lenet(seed, width, batch_norm):
    """The layers of LeNet, with or without a BatchNorm2D after each convolution."""
    c1, c2, h1, h2 = 6 * width, 16 * width, 120 * width, 84 * width
    rng = np.random.default_rng(seed)

    def norm(channels):
        return [BatchNorm2D(channels)] if batch_norm else []

    return Sequential(
        Conv2D(1, c1, 5, padding=2, rng=rng), *norm(c1), ReLU(), MaxPool2D(2),
        Conv2D(c1, c2, 5, rng=rng), *norm(c2), ReLU(), MaxPool2D(2),
        Flatten(),
        Linear(c2 * 25, h1, rng=rng), ReLU(),
        Linear(h1, h2, rng=rng), ReLU(),
        Linear(h2, 10, rng=rng),
    )
