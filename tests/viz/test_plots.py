import numpy as np
from matplotlib.figure import Figure

from fmcnn.data import CLASS_NAMES
from fmcnn.preprocess import to_input
from fmcnn.viz import (color_scale, fig_to_png, gradient_norms, gradient_view, image_grid, plot_confusion_matrix,
                       plot_curves, plot_feature_maps, plot_filters, plot_layer_overview, plot_saliency, record,
                       smooth)
from fmcnn.viz.filters import mosaic


def test_the_command_line_plots_still_work():
    log = {"step": np.arange(1, 51), "loss": np.linspace(2, 0.5, 50), "accuracy": np.linspace(0.1, 0.8, 50)}
    assert isinstance(plot_curves(log, window=10), Figure)
    assert isinstance(plot_confusion_matrix(np.eye(10, dtype=int) * 5, CLASS_NAMES, normalize=True), Figure)
    assert isinstance(image_grid(np.zeros((12, 28, 28)), titles=[str(i) for i in range(12)]), Figure)
    assert np.allclose(smooth([1, 2, 3, 4], window=2), [1, 1.5, 2.5, 3.5])


def test_filter_and_feature_map_figures(model, tiny_data):
    assert isinstance(plot_filters(model["conv1"].weight.data, title="conv1"), Figure)
    fig = plot_filters(model["conv2"].weight.data)
    assert isinstance(fig, Figure)
    assert [t.get_text() for t in fig.axes[0].get_yticklabels()] == [f"in {c}" for c in range(6)]
    assert len(fig.axes[0].get_xticklabels()) == 16
    rec = record(model, to_input(tiny_data[0][:2]), backward=False)
    assert isinstance(plot_feature_maps(rec.maps("conv2", 0), title="conv2"), Figure)
    assert isinstance(plot_feature_maps(rec.maps("fc1", 0)), Figure)          # a vector: bars
    fig = plot_layer_overview(rec, 1, input_title="an image")
    assert isinstance(fig, Figure) and len(fig.axes) == 1 + 8                  # input + conv1 ... pool2
    assert isinstance(plot_saliency(model, to_input(tiny_data[0][:3]), [0, 0, 0], titles=["a", "b", "c"]), Figure)


def test_mosaic_and_color_scale():
    tiles = np.arange(2 * 3 * 4, dtype=float).reshape(3, 2, 4)
    out, (rows, cols) = mosaic(tiles, ncols=2, pad=1)
    assert (rows, cols) == (2, 2) and out.shape == (5, 9)
    assert np.array_equal(out[:2, :4], tiles[0]) and np.array_equal(out[:2, 5:], tiles[1])
    assert np.array_equal(out[3:, :4], tiles[2]) and np.isnan(out[2]).all() and np.isnan(out[3:, 5:]).all()
    assert color_scale(np.array([-2.0, 1.0])) == ("RdBu_r", -2.0, 2.0)
    assert color_scale(np.array([0.0, 3.0])) == ("viridis", 0.0, 3.0)
    assert color_scale(np.zeros(3), signed=True) == ("RdBu_r", -1.0, 1.0)


def test_gradient_views_and_norms(model, tiny_data):
    g, v = np.array([-2.0, 3.0]), np.array([0.5, -1.0])
    assert np.array_equal(gradient_view(g, v, "raw"), g)
    assert np.array_equal(gradient_view(g, v, "abs"), [2.0, 3.0])
    assert np.array_equal(gradient_view(g, v, "grad_x_input"), [-1.0, -3.0])
    rec = record(model, to_input(tiny_data[0][:1]), targets=0)
    norms = gradient_norms(rec)
    assert list(norms) == ["input"] + model.names
    assert np.isclose(norms["fc3"], np.sqrt(np.mean(rec.grads["fc3"][0].astype(float) ** 2)))


def test_png_with_a_palette():
    import io

    from PIL import Image
    fig = plot_confusion_matrix(np.arange(100).reshape(10, 10), CLASS_NAMES)
    full, small = fig_to_png(fig, dpi=72), fig_to_png(fig, dpi=72, colors=256)
    assert full.startswith(b"\x89PNG") and small.startswith(b"\x89PNG")
    assert len(small) < len(full) / 2
    picture = Image.open(io.BytesIO(small))
    assert picture.mode == "P" and len(picture.getcolors()) <= 256
    assert picture.size == Image.open(io.BytesIO(full)).size == tuple(round(72 * v) for v in fig.get_size_inches())
