"""The teaching diagrams show what fmcnn computes: each helper is checked on its own, against
fmcnn.nn or a plain loop, and each figure is read back (its numbers and words) and compared."""
import numpy as np
import pytest
from matplotlib.figure import Figure

import fmcnn.viz.diagrams.correlation as correlation
import fmcnn.viz.diagrams.graphs as graphs
from fmcnn.models import lenet_bn
from fmcnn.nn import im2col
from fmcnn.viz.diagrams import (check_batchnorm_messages, check_mlp_messages, conv_input_grad, full_correlation,
                                layer_shapes, mlp_messages, overlap_counts, pixel_columns, plot_batchnorm_graph,
                                plot_col2im, plot_full_correlation, plot_im2col, plot_lenet, plot_mlp_graph,
                                plot_pooling_tie, pooling_routes, shape_text)
from fmcnn.viz.diagrams.pooling import EXAMPLE, UPSTREAM


def texts(fig, gid=None):
    return [t.get_text() for ax in fig.axes for t in ax.texts if gid is None or t.get_gid() == gid]


def read_grid(fig, gid, shape):
    """The numbers that ``style.grid`` drew with ``gid`` (row-major), as strings of the given shape."""
    return np.array(texts(fig, gid), dtype=object).reshape(shape)


def correlate_valid(image, kernel):
    """A valid cross-correlation written as two loops, independent of fmcnn."""
    k = kernel.shape[0]
    return np.array([[np.sum(image[i:i + k, j:j + k] * kernel) for j in range(image.shape[1] - k + 1)]
                     for i in range(image.shape[0] - k + 1)])


# -- im2col and col2im ----------------------------------------------------------------------------

@pytest.mark.parametrize("size, k, stride", [(4, 2, 1), (5, 3, 2), (6, 2, 2)])
def test_pixel_columns_list_each_window_s_pixels(size, k, stride):
    image = np.arange(size * size).reshape(size, size)
    columns = pixel_columns(size, k, stride)
    starts = range(0, size - k + 1, stride)
    windows = [image[i:i + k, j:j + k].ravel() for i in starts for j in starts]
    assert np.array_equal(columns, np.array(windows).T)


@pytest.mark.parametrize("size, k, stride", [(4, 2, 1), (7, 3, 1), (7, 3, 2)])
def test_overlap_counts_count_the_windows_holding_each_pixel(size, k, stride):
    counts = np.zeros((size, size), dtype=int)
    for i in range(0, size - k + 1, stride):
        for j in range(0, size - k + 1, stride):
            counts[i:i + k, j:j + k] += 1
    assert np.array_equal(overlap_counts(size, k, stride), counts)


def test_im2col_figure_shows_fmcnn_im2col_of_the_pixel_indices():
    fig = plot_im2col()
    assert isinstance(fig, Figure)
    expected = im2col(np.arange(16.0).reshape(1, 1, 4, 4), 2)[0].astype(int)
    assert np.array_equal(read_grid(fig, "columns", (4, 9)), expected.astype(str))
    assert np.array_equal(read_grid(fig, "image", (4, 4)), np.arange(16).reshape(4, 4).astype(str))
    assert "pixel 5 lies in 4 windows, so it is copied into 4 columns" in texts(fig)


def test_col2im_figure_shows_the_overlap_counts():
    fig = plot_col2im()
    assert np.array_equal(read_grid(fig, "counts", (4, 4)),
                          np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]]).astype(str))
    assert np.array_equal(read_grid(fig, "sources", (4, 9)), pixel_columns().astype(str))
    assert "pixel 5: 1 + 1 + 1 + 1 = 4" in texts(fig)
    assert "pixel 0: 1 = 1" in texts(plot_col2im(pixel=0))


# -- the full correlation -----------------------------------------------------------------------

@pytest.mark.parametrize("size, k, stride", [(5, 3, 1), (5, 3, 2), (6, 3, 2), (9, 2, 3), (8, 5, 1)])
def test_full_correlation_is_conv2d_backward(size, k, stride):
    rng = np.random.default_rng(size * k + stride)
    out = (size - k) // stride + 1
    G, K = rng.standard_normal((out, out)), rng.standard_normal((k, k))
    steps = full_correlation(G, K, stride, (size, size))
    assert np.allclose(steps.input_grad, conv_input_grad(G, K, stride, (size, size)), rtol=1e-12, atol=1e-12)
    assert np.array_equal(steps.flipped, K[::-1, ::-1])
    assert steps.padded.shape == ((out - 1) * stride + 2 * k - 1,) * 2
    assert np.array_equal(steps.dilated[::stride, ::stride], G) and steps.dilated.sum() == pytest.approx(G.sum())


def test_without_the_flip_or_the_dilation_the_gradient_is_wrong():
    rng = np.random.default_rng(0)
    G, K = rng.standard_normal((2, 2)), rng.standard_normal((3, 3))
    truth = conv_input_grad(G, K, 2, (5, 5))
    steps = full_correlation(G, K, 2, (5, 5))
    assert np.allclose(correlate_valid(steps.padded, steps.flipped), truth)      # the loop agrees with fmcnn
    assert not np.allclose(correlate_valid(steps.padded, K), truth)              # no flip
    undilated = correlate_valid(np.pad(G, 2), steps.flipped)                     # no dilation: 4x4, not 5x5
    assert undilated.shape != truth.shape and not np.allclose(np.pad(undilated, ((0, 1), (0, 1))), truth)


def test_full_correlation_figure_checks_itself_against_conv2d(monkeypatch):
    fig = plot_full_correlation()
    G, K = np.array([[1.0, 2.0], [3.0, 4.0]]), np.arange(1.0, 10).reshape(3, 3)
    shown = read_grid(fig, "input_grad", (5, 5))
    assert np.array_equal(shown, conv_input_grad(G, K, 2, (5, 5)).astype(int).astype(str))
    assert "1·9 + 2·7 + 3·3 + 4·1 = 36" in texts(fig) and shown[2, 2] == "36"
    real = correlation.full_correlation
    monkeypatch.setattr(correlation, "full_correlation",           # a recipe that forgets the flip
                        lambda g, kernel, stride, size: real(g, kernel[::-1, ::-1], stride, size))
    with pytest.raises(AssertionError):
        plot_full_correlation()


# -- max pooling on a tie -------------------------------------------------------------------------

def test_pooling_routes_first_maximum_and_mask_rule():
    out, dx_first, dx_mask = pooling_routes(EXAMPLE, UPSTREAM)
    assert np.array_equal(out, [[3, 2], [8, 7]])
    assert np.array_equal(dx_first, [[0, 10, 20, 0], [0, 0, 0, 0], [0, 0, 0, 40], [0, 30, 0, 0]])
    assert np.array_equal(dx_mask, dx_first + np.array([[0, 0, 0, 0], [10, 0, 0, 0], [0] * 4, [0] * 4]))
    _, first, mask = pooling_routes(np.zeros((5, 5)), np.ones((2, 2)))           # every window a 4-way tie
    assert first.sum() == 4 and mask.sum() == 16 and np.all(mask[4] == 0) and np.all(first[:, 4] == 0)


def test_pooling_figure_shows_both_rules_and_their_totals():
    fig = plot_pooling_tie()
    _, dx_first, dx_mask = pooling_routes(EXAMPLE, UPSTREAM)
    assert np.array_equal(read_grid(fig, "dx_first", (4, 4)), dx_first.astype(int).astype(str))
    assert np.array_equal(read_grid(fig, "dx_mask", (4, 4)), dx_mask.astype(int).astype(str))
    words = texts(fig)
    assert {"1 window with a tie", "in total 100", "sends back 100", "sends back 110"} <= set(words)


# -- LeNet ------------------------------------------------------------------------------------------

def test_lenet_figure_lists_the_shapes_of_the_summary():
    model = lenet_bn()
    summary = model.summary().splitlines()[2:-2]                    # the layer rows
    shapes = [row.split("(None, ")[1].split(")")[0] for row in summary]
    fig = plot_lenet(model)
    assert texts(fig, "shape") == ["1×28×28"] + [s.replace(", ", "×") for s in shapes]
    assert [row.split()[0] for row in summary] == [name for name, _, _ in layer_shapes(model)]
    assert set(model.names) <= set(texts(fig))
    assert model.training                                           # the mode is restored
    assert shape_text((120,)) == "120"


# -- computational graphs ---------------------------------------------------------------------------

def test_mlp_messages_match_fmcnn_and_have_the_shapes_they_differentiate():
    for seed in range(3):
        check_mlp_messages(seed)
    from fmcnn.nn import Linear, ReLU, Sequential
    model = Sequential(Linear(4, 3, rng=0), ReLU(), Linear(3, 2, rng=1)).to(np.float64)
    x = np.random.default_rng(0).standard_normal((5, 4))
    messages = mlp_messages(model, x, np.array([0, 1, 1, 0, 1]))
    assert messages["x", "h"].shape == x.shape and messages["W1", "h"].shape == (3, 4)
    assert messages["b2", "s"].shape == (2,) and messages["h", "a"].shape == (5, 3)


def test_the_mlp_check_catches_a_wrong_message(monkeypatch):
    real = graphs.mlp_messages

    def no_relu_mask(model, x, labels):
        messages = real(model, x, labels)
        messages["h", "a"] = messages["a", "s"]                                  # forgets [h > 0]
        return messages

    monkeypatch.setattr(graphs, "mlp_messages", no_relu_mask)
    with pytest.raises(AssertionError):
        check_mlp_messages()


def test_batchnorm_fan_outs_need_both_paths(monkeypatch):
    check_batchnorm_messages()
    fan_outs = {name for name, node in graphs.BN_NODES.items() if node[4] == "fan-out"}
    outgoing = {name: [e.target for e in graphs.BN_EDGES if e.source == name] for name in graphs.BN_NODES}
    assert fan_outs == {"x", "xc"} == {name for name, targets in outgoing.items() if len(targets) == 2}
    assert set(graphs.BN_SUMS) == fan_outs
    rng = np.random.default_rng(1)
    messages = graphs.batchnorm_messages(rng.standard_normal((2, 3, 4, 4)), rng.standard_normal((2, 3, 4, 4)),
                                         rng.standard_normal(3))
    assert not np.allclose(messages["x", "xc"], messages["xc", "xhat"])     # x_c's second path counts
    real = graphs.batchnorm_messages
    for dropped in (("x", "mu"), ("x", "xc")):                                 # either path into x missing
        def one_path_less(x, dy, gamma, eps=1e-5, dropped=dropped):
            messages = real(x, dy, gamma, eps)
            messages[dropped] = 0 * messages[dropped]
            return messages

        monkeypatch.setattr(graphs, "batchnorm_messages", one_path_less)
        with pytest.raises(AssertionError):
            check_batchnorm_messages()


@pytest.mark.parametrize("plot, edges, sums", [(plot_mlp_graph, graphs.MLP_EDGES, {}),
                                               (plot_batchnorm_graph, graphs.BN_EDGES, graphs.BN_SUMS)])
def test_graph_figures_write_every_message(plot, edges, sums):
    fig = plot()
    assert isinstance(fig, Figure)
    assert texts(fig, "message") == [e.message for e in edges if e.message]
    assert texts(fig, "sum") == list(sums.values())


def test_the_mlp_graph_carries_the_relu_message():
    assert r"$\partial L/\partial h = \partial L/\partial a \odot [h > 0]$" in texts(plot_mlp_graph(), "message")
