"""Read (and write) the IDX format used by MNIST, Fashion-MNIST and friends.

An IDX file is a tiny header followed by one big-endian array::

    bytes 0-1   0x00 0x00
    byte  2     dtype code (see ``IDX_DTYPES``)
    byte  3     number of dimensions, d
    then        d big-endian uint32 sizes
    then        the items, big-endian, C order

The files are usually distributed gzip-compressed; ``read_idx`` accepts both.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

from ..errors import FmcnnError

__all__ = [
    "IDX_DTYPES",
    "DataError",
    "DataNotFoundError",
    "CorruptDataError",
    "ChecksumError",
    "DownloadError",
    "read_idx",
    "read_bytes",
    "parse_idx",
    "encode_idx",
    "write_idx",
]

#: IDX dtype code -> big-endian NumPy dtype.
IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# Decide "is it gzip?" from the content, not the name: Debian and users rename
# and recompress files, and a ".gz" that is really raw (or vice versa) is common.
_GZIP_MAGIC = b"\x1f\x8b"


class DataError(FmcnnError):
    """Base class for every data-loading problem raised by ``fmcnn.data``."""


class DataNotFoundError(DataError, FileNotFoundError):
    """A data file (or the whole dataset) could not be found."""


class CorruptDataError(DataError, ValueError):
    """A file exists but its content is unusable (truncated, wrong format, ...)."""


class ChecksumError(CorruptDataError):
    """A file parsed fine but its MD5 is not the published one."""


class DownloadError(DataError, OSError):
    """Fetching a file from the network failed."""


def read_bytes(path: str | os.PathLike) -> bytes:
    """Return the content of ``path``, gunzipped if it starts with the gzip magic.

    Raises ``DataNotFoundError`` if the file does not exist and
    ``CorruptDataError`` if it looks like gzip but cannot be decompressed.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataNotFoundError(f"{path}: no such file") from None
    if not raw.startswith(_GZIP_MAGIC):
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise CorruptDataError(
            f"{path}: corrupt or truncated gzip data ({e}). "
            "Delete the file and fetch it again."
        ) from None


def parse_idx(data: bytes, path: str | os.PathLike = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file.

    Returns a new, writable array whose shape is the sizes from the header and
    whose dtype is the header's type in native byte order (uint8, int8, int16,
    int32, float32 or float64). ``path`` is only used in error messages.
    """
    if len(data) < 4:
        raise CorruptDataError(
            f"{path}: truncated IDX file: expected at least 4 header bytes, got {len(data)}"
        )
    if data[0:2] != b"\x00\x00":
        hint = " (that is gzip data inside gzip?)" if data[0:2] == _GZIP_MAGIC else ""
        if data[:1] in (b"<", b"{"):
            hint = " (it looks like text/HTML, e.g. an error page saved as the file)"
        raise CorruptDataError(
            f"{path}: not an IDX file: magic number is {data[:4].hex(' ')}, "
            f"expected 00 00 <dtype> <ndim>{hint}"
        )
    code, ndim = data[2], data[3]
    if code not in IDX_DTYPES:
        known = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise CorruptDataError(
            f"{path}: unknown IDX dtype code 0x{code:02X} (known codes: {known})"
        )
    dtype = IDX_DTYPES[code]
    header = 4 + 4 * ndim
    if len(data) < header:
        raise CorruptDataError(
            f"{path}: truncated IDX header: {ndim} dimensions need {header} bytes, "
            f"got {len(data)}"
        )
    shape = tuple(int(s) for s in np.frombuffer(data, ">u4", count=ndim, offset=4))
    # Python ints, so huge bogus sizes from a damaged header cannot overflow.
    expected = header + dtype.itemsize * int(np.prod(shape, dtype=object))
    if len(data) != expected:
        what = "truncated" if len(data) < expected else "too long"
        raise CorruptDataError(
            f"{path}: {what} IDX file: header says shape {shape} of {dtype.name}, "
            f"so expected {expected} bytes, got {len(data)}"
        )
    items = np.frombuffer(data, dtype, offset=header)
    # astype copies: the result is writable, native-endian and independent of `data`.
    return items.astype(dtype.newbyteorder("=")).reshape(shape)


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file, raw or gzip-compressed (detected by content, not name).

    Returns a writable array with the shape from the file header, e.g.
    ``(60000, 28, 28)`` uint8 for MNIST-style images and ``(60000,)`` uint8 for
    labels, in native byte order. Raises ``DataNotFoundError`` for a missing
    file and ``CorruptDataError`` for anything malformed; every message names
    the file.
    """
    return parse_idx(read_bytes(path), path)


def encode_idx(array) -> bytes:
    """The bytes of an uncompressed IDX file holding ``array``; the inverse of ``parse_idx``.

    The array's dtype must be one of the IDX types (uint8, int8, int16, int32,
    float32, float64), in either byte order; ValueError otherwise.
    """
    array = np.asarray(array)
    codes = {dt.newbyteorder("="): code for code, dt in IDX_DTYPES.items()}
    native = array.dtype.newbyteorder("=")
    if native not in codes:
        raise ValueError(f"IDX cannot store dtype {array.dtype}")
    header = bytes([0, 0, codes[native], array.ndim])
    header += np.asarray(array.shape, ">u4").tobytes()
    return header + array.astype(native.newbyteorder(">")).tobytes()


def write_idx(path: str | os.PathLike, array, compress: bool | None = None) -> Path:
    """Write ``array`` as an IDX file; the inverse of ``read_idx``.

    ``compress=None`` gzips when the name ends in ``.gz``. The array's dtype
    must be one of the IDX types (uint8, int8, int16, int32, float32, float64).
    Returns the path written.
    """
    path = Path(path)
    try:
        data = encode_idx(array)
    except ValueError as e:
        raise ValueError(f"{path}: {e}") from None
    if compress or (compress is None and path.suffix == ".gz"):
        data = gzip.compress(data, mtime=0)
    path.write_bytes(data)
    return path
