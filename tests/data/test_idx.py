"""The general IDX reader: round trips, the byte layout, and every kind of bad file."""

import gzip
import struct

import numpy as np
import pytest

from fmcnn.data import CorruptDataError, DataError, DataNotFoundError, read_idx, write_idx


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
@pytest.mark.parametrize(
    "dtype, shape",
    [
        (np.uint8, (5, 28, 28)),
        (np.int8, (7,)),
        (np.int16, (3, 4)),
        (np.int32, (2, 3, 4, 5)),
        (np.float32, (6, 1)),
        (np.float64, (2, 2, 2)),
    ],
)
def test_round_trip(tmp_path, dtype, shape, compress):
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info:
        array = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        array = rng.standard_normal(shape).astype(dtype)
    # Name never says .gz: the reader must detect gzip from the content.
    path = write_idx(tmp_path / "a.idx", array, compress=compress)
    assert path.read_bytes().startswith(b"\x1f\x8b") == compress

    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == shape
    np.testing.assert_array_equal(back, array)
    back[...] = 0  # writable, not a view of some internal buffer


def test_hand_built_file_is_big_endian(tmp_path):
    # Built with struct, independently of write_idx, to pin the on-disk format.
    values = [1, -2, 300, -40000]
    data = bytes([0, 0, 0x0C, 2]) + struct.pack(">II", 2, 2) + struct.pack(">4i", *values)
    (tmp_path / "h").write_bytes(data)
    np.testing.assert_array_equal(read_idx(tmp_path / "h"), np.reshape(values, (2, 2)))


def test_gz_name_with_raw_content_and_empty_array(tmp_path):
    path = tmp_path / "labels.gz"
    path.write_bytes(bytes([0, 0, 0x08, 1]) + struct.pack(">I", 0))
    out = read_idx(path)
    assert out.shape == (0,) and out.dtype == np.uint8


def _raises(path, match):
    with pytest.raises(CorruptDataError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, (DataError, ValueError))
    return info.value


def test_missing_file(tmp_path):
    with pytest.raises(DataNotFoundError, match="no such file") as info:
        read_idx(tmp_path / "nope")
    assert isinstance(info.value, FileNotFoundError)
    assert str(tmp_path / "nope") in str(info.value)


@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gzip"])
def test_truncated_data(tmp_path, compress):
    data = write_idx(tmp_path / "x", np.zeros((10, 28, 28), np.uint8)).read_bytes()[:-100]
    (tmp_path / "x").write_bytes(gzip.compress(data) if compress else data)
    _raises(tmp_path / "x", r"truncated IDX file: .*expected 7856 bytes, got 7756")


def test_truncated_header(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 8, 3]) + b"\x00\x00")
    _raises(tmp_path / "x", "truncated IDX header: 3 dimensions need 16 bytes, got 6")
    (tmp_path / "y").write_bytes(b"\x00\x00")
    _raises(tmp_path / "y", "expected at least 4 header bytes, got 2")


def test_trailing_garbage(tmp_path):
    path = write_idx(tmp_path / "x", np.zeros(4, np.int16))
    path.write_bytes(path.read_bytes() + b"junk")
    _raises(path, "too long IDX file: .*expected 16 bytes, got 20")


def test_wrong_magic(tmp_path):
    (tmp_path / "page.gz").write_bytes(b"<html>404 Not Found</html>")
    _raises(tmp_path / "page.gz", r"not an IDX file: magic number is 3c 68 74 6d.*HTML")


def test_unknown_dtype(tmp_path):
    (tmp_path / "x").write_bytes(bytes([0, 0, 0x0A, 1]) + struct.pack(">I", 1) + b"\x00")
    _raises(tmp_path / "x", "unknown IDX dtype code 0x0A")


def test_corrupt_gzip(tmp_path):
    good = gzip.compress(bytes([0, 0, 8, 1]) + struct.pack(">I", 1000) + bytes(1000))
    (tmp_path / "cut").write_bytes(good[: len(good) // 2])
    _raises(tmp_path / "cut", "corrupt or truncated gzip")
    (tmp_path / "bad").write_bytes(good[:10] + b"\xff" * 20 + good[30:])
    _raises(tmp_path / "bad", "corrupt or truncated gzip")
