"""Time the explorers of fmcnn.viz.explorers on this machine: one picture, and all the pictures one
of them draws in advance.

Prints figures; asserts nothing (tests check what the explorers show, not how fast:
shared machines are noisy). One picture (``explorer.picture(...)``: a matplotlib figure
drawn and stored as a palette PNG) is what live mode computes for every change of a
control, and what the precomputed rendering computes for every setting; each figure is
the median of ``--repeats`` timed calls after one untimed call. With ``--precomputed``,
each explorer also builds its widget, drawing every picture of its precomputed set, and
the number of pictures, the seconds and the bytes are printed. The explorers are those of
the book's chapters, with their data: the pretrained LeNet-BN, the Fashion-MNIST test
images (training images for the playground and batch normalization), and for the
training explorer two checkpoints of a freshly initialized model.

    python benchmarks/explorers.py [--repeats 5] [--precomputed]
"""
import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from fmcnn.checkpoint import save_checkpoint
from fmcnn.data import load_fashion_mnist
from fmcnn.models import lenet_bn
from fmcnn.nn import Conv2D
from fmcnn.viz.explorers import (BatchNormExplorer, ConvBackwardExplorer, ConvPlayground, FeatureMapExplorer,
                                 GradientExplorer, MaxPoolExplorer, TrainingExplorer)


def median_seconds(call, repeats):
    call()                                          # untimed: first drawing of this setting
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def edge_patch(images):
    """Chapter 6's input: the first T-shirt's vertical edges after ReLU, rows 17-25, columns 6-14."""
    edge = Conv2D(1, 1, 3, padding=1).to(np.float64)
    edge.weight.data = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]).reshape(1, 1, 3, 3)
    edge.bias.data = np.zeros(1)
    return np.round(np.maximum(edge(images[1:2, None] / 255.0), 0)[0, 0, 17:26, 6:15], 1)


def cases(checkpoint_dir):
    """(explorer, label of the timed picture, its settings), as in the chapters."""
    test_images, test_labels = load_fashion_mnist("test")
    train_images, train_labels = load_fashion_mnist("train")
    model = lenet_bn(pretrained=True)
    trained = lenet_bn(seed=0)
    start = trained.state_dict()
    trained["conv1"].weight.data += 0.1
    checkpoints = [(0, start), (10, save_checkpoint(Path(checkpoint_dir) / "step_000010.npz", trained))]
    rng = np.random.default_rng(5)                  # chapter 5's numbers
    x, w = rng.integers(0, 5, (7, 7)).astype(np.float64), rng.integers(-1, 2, (3, 3)).astype(np.float64)
    g = rng.choice([-2.0, -1.0, 1.0, 2.0], (5, 5))
    return [
        (FeatureMapExplorer(model, test_images, test_labels, cls=9), "FeatureMapExplorer, layer conv2",
         dict(layer="conv2")),
        (GradientExplorer(model, test_images, test_labels, cls=9, layer="relu1"), "GradientExplorer, layer conv1",
         dict(layer="conv1")),
        (TrainingExplorer(lenet_bn(seed=5), checkpoints, test_images[0], title="image 0",
                          eval_data=(test_images[:1000], test_labels[:1000])), "TrainingExplorer, step 0", dict(step=0)),
        (ConvPlayground(train_images, train_labels, cls=9), "ConvPlayground, preset outline", dict(preset="outline")),
        (ConvBackwardExplorer(x, w, g, position=6), "ConvBackwardExplorer, sums to position 24",
         dict(position=24, show="sum")),
        (MaxPoolExplorer({"T-shirt edges after ReLU": edge_patch(train_images)}), "MaxPoolExplorer, window 5",
         dict(window=5)),
        (BatchNormExplorer(train_images / 255.0), "BatchNormExplorer, step 50, evaluation", dict(step=50, mode="eval")),
    ]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per explorer (default 5)")
    parser.add_argument("--precomputed", action="store_true", help="also draw every precomputed picture")
    args = parser.parse_args()
    print(f"one picture: median of {args.repeats} calls after one untimed call")
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        explorers = cases(checkpoint_dir)
        for explorer, label, changes in explorers:
            seconds = median_seconds(lambda: explorer.picture(**changes), args.repeats)
            print(f"  {label:<44} {1e3 * seconds:7.1f} ms")
        if args.precomputed:
            print("pictures drawn in advance (as when a notebook shows the explorer)")
            for explorer, _, _ in explorers:
                start = time.perf_counter()
                explorer.widget
                seconds = time.perf_counter() - start
                view = explorer._view
                size = sum(len(png) for png in view.pictures())
                print(f"  {type(explorer).__name__:<22} {view.count:4d} settings, {len(view.pictures()):4d} pictures, "
                      f"{seconds:6.1f} s, {size / 1e6:5.2f} MB")


if __name__ == "__main__":
    main()
