"""Fashion-MNIST loading: the real files, the search order, and the error messages."""

import numpy as np
import pytest

import fmcnn.data.fashion_mnist as fm
from fmcnn.data import (
    CLASS_NAMES,
    ChecksumError,
    CorruptDataError,
    DataNotFoundError,
    find_data_dir,
    load_fashion_mnist,
    write_idx,
)


def make_split(folder, split="train", n=3, gz=True):
    """Write a tiny fake split of n images into folder; n tells copies apart."""
    folder.mkdir(parents=True, exist_ok=True)
    images_name, labels_name = fm.SPLITS[split]
    ext = ".gz" if gz else ""
    images = np.full((n, 28, 28), n, np.uint8)
    labels = (np.arange(n) % 10).astype(np.uint8)
    write_idx(folder / (images_name + ext), images)
    write_idx(folder / (labels_name + ext), labels)
    return folder


@pytest.fixture
def places(tmp_path, monkeypatch):
    """Point the cache and Debian folders at empty tmp dirs; clear the env vars."""
    for var in ("FMCNN_DATA", "FMCNN_CACHE", "FMCNN_DATA_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(fm, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "debian")
    # Any accidental download would go to a closed loopback port, failing fast.
    monkeypatch.setattr(fm, "BASE_URL", "http://127.0.0.1:9/")
    return tmp_path


# --- the real data (CI installs dataset-fashion-mnist, so these must not skip) ---

def test_real_train_set():
    images, labels = load_fashion_mnist("train", download=False)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and labels.dtype == np.uint8
    assert labels.min() == 0 and labels.max() == 9
    np.testing.assert_array_equal(np.bincount(labels), [6000] * 10)
    # Via the pixel histogram: exact, and far cheaper than a 47M-element float array.
    counts = np.bincount(images.ravel(), minlength=256)
    values = np.arange(256) / 255
    mean = counts @ values / counts.sum()
    std = np.sqrt(counts @ (values - mean) ** 2 / counts.sum())
    assert round(mean, 4) == 0.2860
    assert round(std, 4) == 0.3530


def test_real_test_set():
    images, labels = load_fashion_mnist("test", download=False)
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (10000,) and labels.dtype == np.uint8
    assert set(np.unique(labels)) == set(range(10))


def test_class_names():
    assert CLASS_NAMES == ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                           "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")


def test_bad_split():
    with pytest.raises(ValueError, match="'train', 'test'.*'validation'"):
        load_fashion_mnist("validation")


# --- search order ---

def test_search_order(places, monkeypatch):
    explicit = make_split(places / "explicit", n=1)
    monkeypatch.setenv("FMCNN_DATA", str(make_split(places / "env", n=2)))
    make_split(fm.CACHE_DIR, n=3)
    make_split(fm.DEBIAN_DIR, n=4, gz=False)

    def n_loaded(**kw):
        return len(load_fashion_mnist("train", download=False, verify=False, **kw)[0])

    assert n_loaded(data_dir=explicit) == 1
    assert n_loaded() == 2
    monkeypatch.delenv("FMCNN_DATA")
    assert n_loaded() == 3
    assert find_data_dir("train") == fm.CACHE_DIR
    for f in fm.CACHE_DIR.iterdir():
        f.unlink()
    assert n_loaded() == 4
    assert find_data_dir("train") == fm.DEBIAN_DIR


def test_fmcnn_cache_env_var(places, monkeypatch):
    monkeypatch.setenv("FMCNN_CACHE", str(places / "mycache"))
    assert fm.cache_dir() == places / "mycache" / "fashion-mnist"
    make_split(places / "mycache" / "fashion-mnist", n=5)
    assert len(load_fashion_mnist("train", download=False, verify=False)[1]) == 5


def test_folder_needs_both_files_of_the_split(places):
    make_split(fm.CACHE_DIR, n=3)
    (fm.CACHE_DIR / "train-labels-idx1-ubyte.gz").unlink()
    make_split(fm.DEBIAN_DIR, n=4)
    assert len(load_fashion_mnist("train", download=False, verify=False)[0]) == 4


# --- errors ---

def test_missing_everywhere_lists_all_ways(places):
    with pytest.raises(DataNotFoundError) as info:
        load_fashion_mnist("test", download=False)
    msg = str(info.value)
    for needle in ["t10k-images-idx3-ubyte", "data_dir=", "FMCNN_DATA=",
                   "apt-get install dataset-fashion-mnist", "download=True",
                   "FMCNN_DATA_URL", str(fm.CACHE_DIR), str(fm.DEBIAN_DIR)]:
        assert needle in msg
    assert isinstance(info.value, FileNotFoundError)


@pytest.mark.parametrize("how", ["argument", "env"])
def test_explicit_folder_without_files_is_an_error(places, monkeypatch, how):
    make_split(fm.DEBIAN_DIR, n=4)  # must NOT be used as a fallback
    empty = places / "empty"
    empty.mkdir()
    kw = {"data_dir": empty} if how == "argument" else {}
    if how == "env":
        monkeypatch.setenv("FMCNN_DATA", str(empty))
    with pytest.raises(DataNotFoundError, match="missing train-images-idx3-ubyte") as info:
        load_fashion_mnist("train", **kw)
    assert str(empty) in str(info.value) and "apt-get" in str(info.value)


def test_count_mismatch(places):
    folder = make_split(places / "d", n=3)
    write_idx(folder / "train-labels-idx1-ubyte.gz", np.zeros(2, np.uint8))
    with pytest.raises(CorruptDataError, match="has 3 images but .* has 2 labels"):
        load_fashion_mnist("train", data_dir=folder, verify=False)


def test_wrong_kind_of_file(places):
    folder = make_split(places / "d", n=3)
    write_idx(folder / "train-images-idx3-ubyte.gz", np.zeros((3, 28), np.uint8))
    with pytest.raises(CorruptDataError, match=r"expected uint8 images of shape \(N, 28, 28\)"):
        load_fashion_mnist("train", data_dir=folder, verify=False)


def test_checksum_mismatch(places):
    folder = make_split(places / "d", n=3)
    with pytest.raises(ChecksumError) as info:
        load_fashion_mnist("train", data_dir=folder)
    msg = str(info.value)
    assert str(folder / "train-images-idx3-ubyte.gz") in msg
    assert fm.MD5["train-images-idx3-ubyte"] in msg
    assert "corrupt" in msg and "delete it" in msg and "re-download" in msg


def test_corrupt_gzip_in_dataset(places):
    folder = make_split(places / "d", n=3)
    path = folder / "train-images-idx3-ubyte.gz"
    path.write_bytes(path.read_bytes()[:20])
    with pytest.raises(CorruptDataError, match="corrupt or truncated gzip") as info:
        load_fashion_mnist("train", data_dir=folder, verify=False)
    assert str(path) in str(info.value)


def test_changed_file_is_reread_not_served_from_memory(places):
    folder = make_split(places / "d", n=3)
    assert len(load_fashion_mnist("train", data_dir=folder, verify=False)[0]) == 3
    make_split(folder, n=6)
    assert len(load_fashion_mnist("train", data_dir=folder, verify=False)[0]) == 6


# --- what is returned ---

def test_results_are_independent_copies(places):
    folder = make_split(places / "d", split="test", n=3)
    first, labels = load_fashion_mnist("test", data_dir=folder, verify=False)
    first[:] = 0
    labels[:] = 9
    again, labels_again = load_fashion_mnist("test", data_dir=folder, verify=False)   # from the in-memory cache
    assert again.any() and labels_again.min() == 0
