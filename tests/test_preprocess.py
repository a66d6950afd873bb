import numpy as np
import pytest

from fmcnn.preprocess import MEAN, STD, augment, to_input


def test_to_input_scales_and_normalizes():
    images = np.array([[[0, 255]]], np.uint8)
    np.testing.assert_allclose(to_input(images, normalize=False)[0, 0], [[0, 1]])
    np.testing.assert_allclose(to_input(images)[0, 0], [[-MEAN / STD, (1 - MEAN) / STD]], rtol=1e-6)
    with pytest.raises(TypeError, match="uint8"):
        to_input(images.astype(np.float32))


def test_augment_shifts_and_flips_without_changing_shape():
    x = np.zeros((200, 1, 8, 8), np.float32)
    x[:, 0, 3, 2] = 1.0   # 2 pixels from the border: a shift of up to 2 keeps it in the frame
    out = augment(x, np.random.default_rng(0), max_shift=2)
    assert out.shape == x.shape and np.all(out.sum(axis=(1, 2, 3)) == 1)   # the pixel moves, never vanishes
    cols = np.argwhere(out[:, 0] == 1)[:, 2]
    assert cols.min() == 0 and cols.max() == 7                              # shifted both ways and mirrored
    assert np.array_equal(augment(x, np.random.default_rng(0)), augment(x, np.random.default_rng(0)))
