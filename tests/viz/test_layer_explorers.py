"""The explorers of chapters 5 to 7 (convolution backward, max pooling, batch normalization):
what they compute agrees with fmcnn.nn's layers, and their pictures and controls work."""
import numpy as np
import pytest

from fmcnn.nn import BatchNorm2D, Conv2D, MaxPool2D
from fmcnn.viz.explorers import BatchNormExplorer, ConvBackwardExplorer, MaxPoolExplorer

from .test_explorers import texts
from .widget_links import choose, fake_pictures


# -- convolution backward -------------------------------------------------------------------

@pytest.fixture
def conv_data():
    rng = np.random.default_rng(0)
    return rng.integers(0, 5, (7, 7)), rng.integers(-1, 2, (3, 3)), rng.integers(-2, 3, (5, 5))


def conv2d_gradients(x, w, dout, stride, padding):
    """dW and dx of fmcnn.nn.Conv2D (one channel in and out) for the upstream gradient dout."""
    layer = Conv2D(1, 1, w.shape[0], stride=stride, padding=padding).to(np.float64)
    layer.weight.data = np.asarray(w, dtype=np.float64)[None, None]
    layer.zero_grad()
    layer(np.asarray(x, dtype=np.float64)[None, None])
    dx = layer.backward(np.asarray(dout, dtype=np.float64)[None, None])
    return layer.weight.grad[0, 0], dx[0, 0]


@pytest.mark.parametrize("stride, padding", [(1, 0), (2, 0), (1, 1), (2, 1), (3, 2)])
def test_conv_backward_sums_to_the_layers_gradients(conv_data, stride, padding):
    x, w, dout = conv_data
    ex = ConvBackwardExplorer(x, w, dout)
    G = ex.upstream(stride, padding)
    last = G.size - 1
    dw, dxp = ex.gradients(last, "sum", stride, padding)
    ref_dw, ref_dx = conv2d_gradients(x, w, G, stride, padding)
    assert np.allclose(dw, ref_dw)
    assert np.allclose(dxp[padding:padding + 7, padding:padding + 7], ref_dx)   # the padding's share is dropped
    one_dw, one_dx = ex.gradients(3, "this", stride, padding)                     # one position: G[i, j] x window
    i, j = divmod(3, G.shape[1])
    xp = np.pad(x, padding)
    assert np.array_equal(one_dw, G[i, j] * xp[i * stride:i * stride + 3, j * stride:j * stride + 3])
    assert np.count_nonzero(one_dx) <= 9 and one_dx.sum() == G[i, j] * w.sum()


def test_conv_backward_settings_and_pictures(conv_data, monkeypatch):
    x, w, dout = conv_data
    ex = ConvBackwardExplorer(x, w, dout, position=7)
    assert "output (1, 2), position 8 of 25" in texts(ex.draw())
    assert "the complete dW = G^T X" in texts(ex.draw(show="sum", position=24))
    assert ex.update(position=99) and ex.state["position"] == 24                 # clamped
    with pytest.raises(ValueError, match="output's shape"):
        ConvBackwardExplorer(x, w, dout[:4])
    with pytest.raises(ValueError, match="show"):
        ex.update(show="all")
    fake_pictures(monkeypatch, ex)
    ex.widget
    assert [c.key for c in ex._view.choices] == ["position", "show"] and ex._view.count == 25 * 2
    assert choose(ex, position=11, show="sum") == ex.picture(position=11, show="sum")
    ex._widget.children[0].index = 1                                             # live: other strides
    ex._controls["stride"].value = 2
    assert ex.state["stride"] == 2 and ex._controls["position"].max == 8 and ex.state["position"] == 8


# -- max pooling ----------------------------------------------------------------------------

TIES = np.array([[0.0, 3.3, 3.1, 0.0, 0.1],
                 [0.0, 3.3, 3.1, 0.0, 0.0],
                 [0.0, 3.2, 3.1, 0.0, 0.1],
                 [0.0, 3.2, 3.2, 0.0, 0.1],
                 [0.0, 0.0, 3.2, 0.1, 0.1]])


@pytest.mark.parametrize("pool", [(2, 2), (3, 2), (2, 1)])
def test_max_pool_first_maximum_is_the_layers_rule(pool):
    ex = MaxPoolExplorer({"ties": TIES}, pool=pool)
    G, dx = ex.backward("ties", pool, "first")
    layer = MaxPool2D(pool[0], stride=pool[1])
    layer(TIES[None, None])
    assert np.array_equal(dx, layer.backward(G[None, None])[0, 0])
    _, mask = ex.backward("ties", pool, "mask")                                  # every tied maximum: too much
    ties = [len(receivers) for _, _, receivers in ex.routes("ties", pool, "mask")]
    assert mask.sum() == sum(g * t for g, t in zip(G.ravel(), ties)) > G.sum()


def test_max_pool_windows_and_pictures(monkeypatch):
    ex = MaxPoolExplorer({"ties": TIES, "random": np.random.default_rng(1).random((5, 5))})
    assert ex.routes("ties", (2, 2), "first")[0] == (0, 0, [(0, 1)])             # 3.3 twice: the first one
    assert ex.routes("ties", (2, 2), "mask")[0] == (0, 0, [(0, 1), (1, 1)])
    _, dx = ex.backward("ties", (2, 2), "first", window=3)
    assert dx.sum() == 4 and dx[3, 2] == 4                                        # window (1, 1): G = 4 at its maximum
    assert "sum of dx = 10 = sum of G (10)" in texts(ex.draw())
    assert "each tie passed its gradient on several times" in texts(ex.draw(rule="mask"))
    assert "a tie between 2 positions, G = 1 goes to (0, 1)" in texts(ex.draw(window=0))
    assert ex.update(window=50) and ex.state["window"] == 3
    with pytest.raises(ValueError, match="pool"):
        ex.update(pool=(6, 2))
    fake_pictures(monkeypatch, ex)
    ex.widget
    assert [c.key for c in ex._view.choices] == ["input", "pool", "rule", "window"]
    assert ex._view.count == 2 * 2 * 2 * 5                                        # "all" and 4 windows
    assert choose(ex, input="random", pool=(3, 2), rule="mask", window=2) == \
        ex.picture(input="random", pool=(3, 2), rule="mask", window=2)
    ex._widget.children[0].index = 1
    ex._controls["pool"].value = (2, 1)
    assert ex.state["pool"] == (2, 1) and ex._controls["window"].max == 15


# -- batch normalization ---------------------------------------------------------------------

@pytest.fixture
def pixels():
    return np.random.default_rng(2).random((40, 4, 4))


def test_batchnorm_running_statistics_and_modes(pixels):
    ex = BatchNormExplorer(pixels, batch_size=8, steps=5, precomputed_steps=(1, 5, 9))
    assert ex.precomputed_steps == [1, 5]
    means, variances = ex.running(0.5)
    mean, var = 0.0, 1.0
    for batch in ex.batches:                                        # PyTorch's rule, unbiased variance
        mean = 0.5 * mean + 0.5 * batch.mean()
        var = 0.5 * var + 0.5 * batch.var() * batch.size / (batch.size - 1)
    assert np.isclose(means[-1], mean) and np.isclose(variances[-1], var)
    assert means[0] == 0 and variances[0] == 1
    train = ex.output(0.5, 3, "train")
    assert np.isclose(train.mean(), 0) and np.isclose(train.var(), 1, atol=1e-3)
    evaluation = ex.output(0.5, 3, "eval")
    layer = BatchNorm2D(1).to(np.float64).eval()
    layer.running_mean[:], layer.running_var[:] = means[3], variances[3]
    assert np.allclose(evaluation, layer(ex.batches[2]))
    assert "still weigh (1 - momentum)^3 = 0.125" in texts(ex.draw(momentum=0.5, step=3))
    with pytest.raises(ValueError, match="examples"):
        BatchNormExplorer(pixels, batch_size=8, steps=6)
    with pytest.raises(ValueError, match="momentum"):
        ex.update(momentum=0)


def test_batchnorm_pictures_and_live_mode(pixels, monkeypatch):
    ex = BatchNormExplorer(pixels, batch_size=8, steps=5, precomputed_momenta=(0.1, 0.9), precomputed_steps=(1, 5))
    fake_pictures(monkeypatch, ex)
    ex.widget
    assert [c.key for c in ex._view.choices] == ["momentum", "step", "mode"] and ex._view.count == 2 * 2 * 2
    assert choose(ex, momentum=0.9, step=5, mode="eval") == ex.picture(momentum=0.9, step=5, mode="eval")
    ex._widget.children[0].index = 1
    ex._controls["step"].value = 4                                  # a step that was not drawn in advance
    assert ex.state == {"momentum": 0.9, "step": 4, "mode": "eval"}  # the rest as chosen before switching
