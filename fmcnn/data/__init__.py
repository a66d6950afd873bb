"""Data loading for fmcnn: a general IDX reader and the Fashion-MNIST dataset.

>>> from fmcnn.data import load_fashion_mnist, CLASS_NAMES
>>> images, labels = load_fashion_mnist("train")   # (60000, 28, 28), (60000,) uint8
"""

from .fashion_mnist import (
    CLASS_NAMES,
    cache_dir,
    download_fashion_mnist,
    find_data_dir,
    load_fashion_mnist,
)
from .idx import (
    ChecksumError,
    CorruptDataError,
    DataError,
    DataNotFoundError,
    DownloadError,
    read_idx,
    write_idx,
)

__all__ = [
    "CLASS_NAMES",
    "load_fashion_mnist",
    "find_data_dir",
    "download_fashion_mnist",
    "cache_dir",
    "read_idx",
    "write_idx",
    "DataError",
    "DataNotFoundError",
    "CorruptDataError",
    "ChecksumError",
    "DownloadError",
]
