import numpy as np

from fmcnn.fast.buffers import reuse_or_empty
from fmcnn.fast.unfold import im2col_channels_last, im2col_into
from fmcnn.nn import im2col


def test_im2col_into_writes_the_layers_im2col_into_the_given_array():
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 6)).astype(np.float32)
    buffer = np.full((2, 27, 16), np.nan, np.float32)
    assert im2col_into(x, 3, buffer) is buffer
    np.testing.assert_array_equal(buffer, im2col(x, 3))


def test_reuse_or_empty_keeps_a_fitting_array_and_replaces_one_that_does_not_fit():
    kept = np.empty((2, 27, 16), np.float32)
    assert reuse_or_empty(kept, (2, 27, 16), np.float32) is kept
    for wrong in (None, np.empty((1, 27, 16), np.float32), np.empty((2, 27, 16), np.float64)):
        fresh = reuse_or_empty(wrong, (2, 27, 16), np.float32)
        assert fresh is not wrong and fresh.shape == (2, 27, 16) and fresh.dtype == np.float32


def test_channels_last_im2col_is_im2col_reordered():
    x = np.random.default_rng(0).standard_normal((2, 3, 7, 6)).astype(np.float32)
    cols = im2col_channels_last(x, 3)                              # (N, Ho*Wo, (di, dj, c))
    reference = im2col(x, 3).reshape(2, 3, 3, 3, 20)                # (N, (c, di, dj), Ho*Wo)
    assert np.array_equal(cols, reference.transpose(0, 4, 2, 3, 1).reshape(2, 20, 27))
    assert im2col_channels_last(x, 3, out=cols) is cols
