import numpy as np
import pytest

from fmcnn.fast.flat_col2im import add_flat_runs, grid_to_flat
from fmcnn.nn import col2im, conv_output_size


@pytest.mark.parametrize("stride", [1, 2, 3])
@pytest.mark.parametrize("x_shape,k", [((2, 3, 9, 8), 3), ((1, 2, 14, 14), 5)])
def test_flat_runs_equal_the_layers_col2im(x_shape, k, stride):
    # col2im on the flat image (spread onto flat positions, then k*k runs) against
    # fmcnn.nn.col2im, which tests/nn/test_conv.py checks against loops: float64, to 1e-12.
    rng = np.random.default_rng(5)
    N, C, H, W = x_shape
    Ho, Wo = conv_output_size(H, k, stride), conv_output_size(W, k, stride)
    cols = rng.standard_normal((N, C * k * k, Ho * Wo))
    flat = grid_to_flat(cols.reshape(N, C * k * k, Ho, Wo), W)
    assert flat.shape == (N, C * k * k, (Ho - 1) * W + Wo)
    q = np.arange(flat.shape[-1])
    assert not flat[..., q % W >= Wo].any()                # the gaps between output rows hold zeros
    np.testing.assert_allclose(add_flat_runs(flat, x_shape, k, stride), col2im(cols, x_shape, k, stride),
                               rtol=1e-12, atol=1e-12)
