"""A tiny synthetic stand-in for Fashion-MNIST, for the tests whose subject is not the real images:
the training loop, checkpoints and resuming, the command line, shapes and pictures.

The tests that are about the real files keep loading them: the loader's checks of the real
train and test sets (tests/data/test_fashion_mnist.py) and the pretrained weights' recorded
test accuracy (tests/test_pretrained.py).
"""
import gzip
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest


def synthetic_fashion(n, seed=0):
    """``n`` deterministic (images uint8 (n, 28, 28), labels uint8 (n,)) with the classes in equal
    numbers: noise under a bright bar whose place depends on the class (jittered by up to 2 pixels)
    and whose left edge is brightest, so a horizontal flip changes the image. A LeNet learns it in
    about a hundred steps."""
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
    images = rng.integers(0, 80, (n, 28, 28)).astype(np.uint8)
    for i, c in enumerate(labels):
        dy, dx = rng.integers(-2, 3, 2)
        top, left = 3 + 2 * c + dy, 4 + c + dx
        images[i, top:top + 6, left:left + 12] = rng.integers(150, 256)
        images[i, top:top + 6, left:left + 3] = 255
    return images, labels


def read_only(arrays):
    for a in arrays:
        a.flags.writeable = False
    return arrays


@pytest.fixture(scope="session")
def synthetic_train():
    """500 synthetic training images and labels, shared by the session, so read-only."""
    return read_only(synthetic_fashion(500))


@pytest.fixture(scope="session")
def synthetic_test():
    """200 synthetic test images and labels, other than the training ones; shared, so read-only."""
    return read_only(synthetic_fashion(200, seed=1))


@dataclass
class FakeData:
    """A folder of synthetic Fashion-MNIST files (both splits, gzipped IDX, the official names)
    and their MD5s, which the loader of this process has been told to accept."""
    folder: Path
    md5: dict

    def cli(self, *args):
        """The command line of `python -m fmcnn.cli *args` in a new process that also accepts
        these files' MD5s (the published ones are of the real files)."""
        code = ("import runpy, fmcnn.data.fashion_mnist as fm; "
                f"fm.MD5.update({self.md5!r}); runpy.run_module('fmcnn.cli', run_name='__main__', alter_sys=True)")
        return [sys.executable, "-c", code, *args]


@pytest.fixture
def fake_data(tmp_path, monkeypatch, synthetic_train, synthetic_test):
    """The synthetic train and test sets written as Fashion-MNIST files into ``tmp_path/fake-data``,
    which FMCNN_DATA points to (here and in subprocesses); their MD5s are accepted in this process
    (and, through ``FakeData.cli``, in subprocesses), so the loader reads them as it would the real ones."""
    import fmcnn.data.fashion_mnist as fm
    from fmcnn.data import write_idx
    folder = tmp_path / "fake-data"
    folder.mkdir()
    md5 = {}
    for split, (images, labels) in (("train", synthetic_train), ("test", synthetic_test)):
        for name, array in zip(fm.SPLITS[split], (images, labels)):
            path = write_idx(folder / f"{name}.gz", array)
            md5[name] = hashlib.md5(gzip.decompress(path.read_bytes())).hexdigest()
    monkeypatch.setenv("FMCNN_DATA", str(folder))
    monkeypatch.setattr(fm, "MD5", {**fm.MD5, **md5})
    return FakeData(folder, md5)
