import numpy as np
from matplotlib.figure import Figure

from fmcnn.data import CLASS_NAMES
from fmcnn.preprocess import to_input
from fmcnn.viz import (AnimationHTML, animate, color_scale, fig_to_png, gradient_norms, gradient_view, image_grid,
                       plot_confusion_matrix, plot_curves, plot_feature_maps, plot_filters, plot_layer_overview,
                       plot_saliency, record, smooth)
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


def test_png_and_animation():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    line, = ax.plot([0, 1], [0, 0])
    assert fig_to_png(fig).startswith(b"\x89PNG")
    anim = animate(fig, lambda k: line.set_ydata([0, k]), frames=[0, 1, 2], interval=100)
    assert isinstance(anim, AnimationHTML) and anim.frames == 3
    assert anim.html.count("data:image/png;base64") >= 3 and "<script" in anim.html
    assert "http" not in anim.html and "fa fa-" not in anim.html       # offline: no Font Awesome from a CDN
    assert 'title="Play"' in anim.html and "\u25b6" in anim.html
    assert anim._repr_html_() == anim.html and repr(anim) == "<animation, 3 frames>"
    assert not plt.fignum_exists(fig.number)            # closed, so it is not also shown as a still image
