"""Time one update() of each explorer of fmcnn.viz.explorers, with its widget built, on this machine.

Prints figures; asserts nothing (tests check what the explorers show, not how
fast: shared machines are noisy). The cases are the ones tests/viz/test_explorers.py
exercises: a LeNet-BN from ``lenet_bn(seed=0)`` in evaluation mode, three test
images of every class, the widget built (so an update also renders the PNG it
shows), and one setting changed. Each figure is the median of ``--repeats``
timed calls after one untimed call.

    python benchmarks/explorers.py [--repeats 5]
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
from fmcnn.viz.explorers import ConvPlayground, FeatureMapExplorer, GradientExplorer, TrainingExplorer


def three_of_every_class():
    images, labels = load_fashion_mnist("test")
    picked = np.concatenate([np.flatnonzero(labels == c)[:3] for c in range(10)])
    return images[picked], labels[picked]


def median_seconds(call, repeats):
    call()                                          # untimed: first drawing of this setting
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cases(images, labels, checkpoint_dir):
    model = lenet_bn(seed=0).eval()
    feature_maps = FeatureMapExplorer(model, images, labels, layer="relu2", cls=6)
    gradients = GradientExplorer(model, images, labels, mode="abs", target=3, objective="score")
    trained = lenet_bn(seed=0)
    start = trained.state_dict()
    trained["conv1"].weight.data += 0.1
    checkpoints = [(0, start), (10, save_checkpoint(Path(checkpoint_dir) / "step_000010.npz", trained))]
    training = TrainingExplorer(lenet_bn(seed=5), checkpoints, images[0], title="image 0",
                                eval_data=(images, labels))
    playground = ConvPlayground(images, labels, size=5, preset="box blur")
    explorers = [(feature_maps, "FeatureMapExplorer.update(layer='conv2')", dict(layer="conv2")),
                 (gradients, "GradientExplorer.update(layer='conv2')", dict(layer="conv2")),
                 (training, "TrainingExplorer.update(step=10)", dict(step=10)),
                 (playground, "ConvPlayground.update(preset='outline')", dict(preset="outline"))]
    for explorer, label, changes in explorers:
        explorer.widget                             # as in a notebook: an update also renders the PNG
        yield label, lambda explorer=explorer, changes=changes: explorer.update(**changes)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed calls per explorer (default 5)")
    args = parser.parse_args()
    images, labels = three_of_every_class()
    print(f"median of {args.repeats} calls after one untimed call, widget built, {len(images)} test images")
    with tempfile.TemporaryDirectory() as checkpoint_dir:
        for label, call in cases(images, labels, checkpoint_dir):
            print(f"  {label:<42} {1e3 * median_seconds(call, args.repeats):7.1f} ms")


if __name__ == "__main__":
    main()
