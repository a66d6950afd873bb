"""Fashion-MNIST: where the four files live, how to check them, how to fetch them.

Where ``load_fashion_mnist`` looks, first match wins (a folder matches when it
holds both files of the split, each as ``name.gz`` or the raw ``name``):

1. the ``data_dir`` argument;
2. the folder in the environment variable ``FMCNN_DATA``;
3. the cache folder: ``$FMCNN_CACHE/fashion-mnist`` if ``FMCNN_CACHE`` is set,
   else ``~/.cache/fmcnn/fashion-mnist`` (module constant ``CACHE_DIR``);
4. ``/usr/share/datasets/fashion-mnist`` from the Debian package
   ``dataset-fashion-mnist`` (module constant ``DEBIAN_DIR``);
5. a download into the cache folder from ``FMCNN_DATA_URL`` if set, else
   ``BASE_URL`` (the official Zalando mirror).

1 and 2 are explicit choices, so if such a folder lacks the files that is an
error rather than a silent fall-through to some other copy.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ..atomic import atomic_write
from .idx import (
    ChecksumError,
    CorruptDataError,
    DataNotFoundError,
    DownloadError,
    parse_idx,
    read_bytes,
)

__all__ = [
    "CLASS_NAMES",
    "SPLITS",
    "load_fashion_mnist",
    "find_data_dir",
    "download_fashion_mnist",
    "cache_dir",
    "base_url",
]

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

#: split -> (images file, labels file), names without ``.gz``.
SPLITS = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: MD5 of the *decompressed* files: Debian recompresses the .gz files, so
#: hashes of the compressed bytes would differ between equally valid copies.
MD5 = {
    "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
    "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
    "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
}

SPLIT_SIZES = {"train": 60000, "test": 10000}

CACHE_DIR = Path.home() / ".cache" / "fmcnn" / "fashion-mnist"
DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
# The S3 *website* endpoint serves plain HTTP only; integrity comes from the MD5s.
BASE_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
DOWNLOAD_TIMEOUT = 60  # seconds without progress before giving up

_HOW_TO_GET = """\
Ways to get the data:
  - pass data_dir="/folder/with/the/files" to load_fashion_mnist()
  - set the environment variable FMCNN_DATA=/folder/with/the/files
  - install the Debian package:  sudo apt-get install dataset-fashion-mnist
  - allow the download (download=True, the default) from {url}
    into {cache}; set FMCNN_DATA_URL to use another mirror"""


def cache_dir() -> Path:
    """Folder that downloads go to: ``$FMCNN_CACHE/fashion-mnist`` or ``CACHE_DIR``."""
    root = os.environ.get("FMCNN_CACHE")
    return Path(root).expanduser() / "fashion-mnist" if root else Path(CACHE_DIR)


def base_url() -> str:
    """Download location: ``$FMCNN_DATA_URL`` or ``BASE_URL``, ending in ``/``."""
    url = os.environ.get("FMCNN_DATA_URL") or BASE_URL
    return url if url.endswith("/") else url + "/"


def _check_split(split: str) -> tuple[str, str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(map(repr, SPLITS))}; got {split!r}")
    return SPLITS[split]


def _find_file(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _how_to_get() -> str:
    return _HOW_TO_GET.format(url=base_url(), cache=cache_dir())


def _locate(split: str, data_dir) -> tuple[tuple[Path, Path] | None, list[str]]:
    """Return the (images, labels) paths of the first matching folder, and what was searched."""
    names = _check_split(split)
    explicit = [(data_dir, "data_dir argument")] if data_dir is not None else []
    if not explicit and os.environ.get("FMCNN_DATA"):
        explicit = [(os.environ["FMCNN_DATA"], "FMCNN_DATA environment variable")]
    for folder, origin in explicit:
        folder = Path(folder).expanduser()
        paths = [_find_file(folder, n) for n in names]
        if None in paths:
            missing = [n for n, p in zip(names, paths) if p is None]
            raise DataNotFoundError(
                f"Fashion-MNIST {split!r} files not found in {folder} (from the {origin}): "
                f"missing {' and '.join(f'{n}[.gz]' for n in missing)}.\n"
                "Point it at the folder that has the files, or leave it out to use the "
                "cache, the Debian package or a download.\n" + _how_to_get()
            )
        return (paths[0], paths[1]), [str(folder)]
    searched = []
    for folder, origin in ((cache_dir(), "cache"), (Path(DEBIAN_DIR), "Debian package")):
        searched.append(f"{folder} ({origin})")
        paths = [_find_file(folder, n) for n in names]
        if None not in paths:
            return (paths[0], paths[1]), searched
    return None, searched


def find_data_dir(split: str = "train", data_dir=None) -> Path:
    """Return the folder ``load_fashion_mnist`` would read ``split`` from, without downloading.

    Raises ``DataNotFoundError`` (listing the searched folders and every way to
    get the data) if no folder has both files of the split.
    """
    found, searched = _locate(split, data_dir)
    if found is None:
        raise _not_found(split, searched)
    return found[0].parent


def _not_found(split: str, searched: list[str], extra: str = "") -> DataNotFoundError:
    images, labels = SPLITS[split]
    return DataNotFoundError(
        f"Fashion-MNIST {split!r} files ({images}[.gz], {labels}[.gz]) not found.{extra}\n"
        "Searched:\n" + "".join(f"  - {s}\n" for s in searched) + _how_to_get()
    )


def _md5_problem(data: bytes, name: str) -> str | None:
    actual = hashlib.md5(data).hexdigest()
    if actual != MD5[name]:
        return f"MD5 of the decompressed content is {actual}, expected {MD5[name]}"
    return None


def _load_file(path: Path, name: str, verify: bool) -> np.ndarray:
    data = read_bytes(path)
    if verify:
        problem = _md5_problem(data, name)
        if problem:
            raise ChecksumError(
                f"{path}: {problem}. The file may be corrupt or is not the official "
                f"{name}; delete it and load again to re-download it (or reinstall "
                "the package it came from). Pass verify=False to skip this check."
            )
    return parse_idx(data, path)


def _signature(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return str(path.resolve()), st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=4)
def _load_cached(images_sig, labels_sig, split: str, verify: bool):
    # Keyed on (path, size, mtime) so a replaced file is re-read, not served stale.
    images_path, labels_path = Path(images_sig[0]), Path(labels_sig[0])
    images_name, labels_name = SPLITS[split]
    images = _load_file(images_path, images_name, verify)
    labels = _load_file(labels_path, labels_name, verify)
    if images.dtype != np.uint8 or images.ndim != 3 or images.shape[1:] != (28, 28):
        raise CorruptDataError(
            f"{images_path}: expected uint8 images of shape (N, 28, 28), "
            f"got {images.dtype} {images.shape}"
        )
    if labels.dtype != np.uint8 or labels.ndim != 1:
        raise CorruptDataError(
            f"{labels_path}: expected uint8 labels of shape (N,), got {labels.dtype} {labels.shape}"
        )
    if len(images) != len(labels):
        raise CorruptDataError(
            f"{images_path} has {len(images)} images but {labels_path} has "
            f"{len(labels)} labels; the two files must come from the same split"
        )
    if labels.size and labels.max() >= len(CLASS_NAMES):
        raise CorruptDataError(
            f"{labels_path}: label {labels.max()} found, but labels must be 0..{len(CLASS_NAMES) - 1}"
        )
    # Read-only, so the cached copy can't be modified even by accident inside this module.
    images.flags.writeable = False
    labels.flags.writeable = False
    return images, labels


def load_fashion_mnist(split: str, data_dir=None, download: bool = True, verify: bool = True):
    """Load one split of Fashion-MNIST.

    Parameters
    ----------
    split : "train" or "test"
    data_dir : folder holding the files (``name.gz`` or raw ``name``). If given,
        it is the only place looked at; otherwise see the module docstring for
        the search order (``FMCNN_DATA``, cache, Debian package, download).
    download : fetch missing files into the cache folder if found nowhere.
    verify : check the MD5 of the decompressed files (~0.1 s for the train set);
        pass False for small home-made files.

    Returns
    -------
    images : uint8 array, shape (N, 28, 28), pixel values 0..255
        (N = 60000 for "train", 10000 for "test").
    labels : uint8 array, shape (N,), class indices 0..9 into ``CLASS_NAMES``.

    Both are fresh writable copies; decoded files are cached in memory so
    repeated calls are fast. Raises ``ValueError`` for a bad split, and
    subclasses of ``fmcnn.data.DataError`` for missing, corrupt or
    undownloadable data.
    """
    found, searched = _locate(split, data_dir)
    if found is None:
        if not download:
            raise _not_found(split, searched, " (download=False, so nothing was fetched)")
        download_fashion_mnist(split, verify=verify)
        found, searched = _locate(split, data_dir)
        if found is None:  # e.g. the cache folder was removed meanwhile
            raise _not_found(split, searched)
    images, labels = _load_cached(_signature(found[0]), _signature(found[1]), split, verify)
    return images.copy(), labels.copy()


def download_fashion_mnist(split: str, dest=None, url: str | None = None, verify: bool = True) -> Path:
    """Download the split's files that ``dest`` lacks; return ``dest``.

    ``dest`` defaults to ``cache_dir()`` and ``url`` to ``base_url()``. Each file
    is written to a temporary file in ``dest``, checked (MD5 if ``verify``,
    else just that it decodes), and only then renamed into place, so a failed
    or corrupt download never leaves a file behind. Raises ``DownloadError``
    for network/HTTP failures and ``CorruptDataError``/``ChecksumError`` for
    bad content.
    """
    dest = Path(dest).expanduser() if dest is not None else cache_dir()
    url = url or base_url()
    url = url if url.endswith("/") else url + "/"
    for name in _check_split(split):
        if _find_file(dest, name) is None:
            _download_file(f"{url}{name}.gz", dest / f"{name}.gz", name, verify)
    return dest


def _download_file(url: str, target: Path, name: str, verify: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Renamed onto target only once verified; removed on any error (also Ctrl-C), so no debris.
    with atomic_write(target, "wb", suffix=".part") as out:
        _fetch(url, out, target)
        out.flush()
        try:
            data = read_bytes(out.name)
            problem = _md5_problem(data, name) if verify else None
            if problem:
                raise ChecksumError(f"{problem}")
            parse_idx(data, url)
        except CorruptDataError as e:
            raise type(e)(
                f"{url}: downloaded file failed verification and was discarded "
                f"(nothing written to {target}): {e}. Try again later or set "
                "FMCNN_DATA_URL to another mirror."
            ) from None


def _fetch(url: str, out, target: Path) -> None:
    hint = f"(nothing was written to {target})\n" + _how_to_get()
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
            length = response.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            received = 0
            with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                      desc=target.name) as bar:
                while chunk := response.read(1 << 16):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
    except urllib.error.HTTPError as e:
        raise DownloadError(f"{url}: HTTP error {e.code} {e.reason} {hint}") from None
    except urllib.error.URLError as e:
        raise DownloadError(f"{url}: could not connect ({e.reason}) {hint}") from None
    except (OSError, http.client.HTTPException) as e:
        raise DownloadError(f"{url}: download failed ({e!r}) {hint}") from None
    if total is not None and received != total:
        raise DownloadError(f"{url}: connection closed after {received} of {total} bytes {hint}")
