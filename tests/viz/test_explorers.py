"""The explorers without a browser: draw() and update() called directly, the pictures drawn
in advance (found by following the browser's links in Python, ``widget_links``), and the
live mode's plumbing exercised by setting control values as a user's click would."""
import numpy as np
import pytest
from matplotlib.figure import Figure

from fmcnn.checkpoint import save_checkpoint
from fmcnn.data import CLASS_NAMES
from fmcnn.models import lenet_bn
from fmcnn.preprocess import to_input
from fmcnn.viz import record
from fmcnn.viz.explorers import (PRESET_KERNELS, ConvPlayground, FeatureMapExplorer, GradientExplorer,
                                 TrainingExplorer, correlate_same, preset_kernel)

from .widget_links import choose, fake_pictures


def texts(fig):
    return " ".join(t.get_text() for t in fig.texts) + " " + " ".join(ax.get_title() for ax in fig.axes)


# -- feature maps ---------------------------------------------------------------------------

def test_feature_map_explorer_draws_every_layer(model, tiny_data):
    images, labels = tiny_data
    ex = FeatureMapExplorer(model, images, labels, cls=4, index=1)
    for layer in model.names:
        fig = ex.draw(layer=layer)
        assert isinstance(fig, Figure)
        assert layer in texts(fig)
    assert ex.state == {"cls": 4, "index": 1, "layer": "conv1"}          # draw() does not change the state
    n = ex.image_number(4, 1)
    assert labels[n] == 4 and n == np.flatnonzero(labels == 4)[1]
    rec = record(model, to_input(images[n:n + 1]), backward=False)
    pred = int(rec.probs[0].argmax())
    assert f"predicted {CLASS_NAMES[pred]} ({rec.probs[0, pred]:.1%})" in texts(ex.draw())


def test_feature_map_explorer_update_validates_and_clamps(model, tiny_data):
    ex = FeatureMapExplorer(model, *tiny_data)
    fig = ex.update(cls=9, index=50, layer="pool2")
    assert isinstance(fig, Figure)
    assert ex.state == {"cls": 9, "index": 2, "layer": "pool2"}          # 3 images per class: index clamped
    with pytest.raises(ValueError, match="no layer"):
        ex.update(layer="conv9")
    with pytest.raises(TypeError, match="no setting"):
        ex.update(colour="red")
    assert repr(ex) == "FeatureMapExplorer(cls=9, index=2, layer='pool2')"


def test_feature_map_pictures_drawn_in_advance(model, tiny_data):
    ex = FeatureMapExplorer(model, *tiny_data, cls=4, index=1, layer="relu2", per_class=1,
                            precomputed_layers=["conv1"])
    widget = ex.widget
    assert ex.widget is widget and "fmcnn-explorer" in widget._dom_classes
    view = ex._view
    assert [c.key for c in view.choices] == ["cls", "layer"]                # one image per class: no image control
    assert [c.description for c in view.controls] == ["class", "layer"]
    assert view.values() == {"cls": 4, "layer": "relu2"}                  # the initial layer is added to the list
    assert view.count == view.total == 10 * 2
    assert choose(ex) == ex.picture()
    for settings in ({"cls": 7, "layer": "conv1"}, {"cls": 0, "layer": "relu2"}):
        assert choose(ex, **settings) == ex.picture(**settings)            # the real PNG of each setting
    assert ex.state == {"cls": 4, "index": 1, "layer": "relu2"}           # choosing does not touch the state
    assert "20 pictures, one for each class x layer (10 x 2)" in ex._caption(view)
    assert [c.key for c in FeatureMapExplorer(model, *tiny_data).precomputed_choices()] == ["cls", "index", "layer"]
    bundle = ex._repr_mimebundle_()
    assert bundle["text/plain"] == repr(ex)
    assert "application/vnd.jupyter.widget-view+json" in bundle


def test_feature_map_live_mode(model, tiny_data):
    ex = FeatureMapExplorer(model, *tiny_data, per_class=1, precomputed_layers=["conv1"])
    mode, pages = ex.widget.children
    assert list(mode.options) == ["precomputed", "live"] and pages.selected_index == 0
    assert "Live mode draws with Python" in pages.children[1].children[0].value   # what the book shows
    choose(ex, cls=6)
    mode.index = 1                                        # in Jupyter: Python builds the live controls...
    assert pages.children[1].children == (ex.live,)
    assert ex.state == {"cls": 6, "index": 0, "layer": "conv1"}          # ...at the settings chosen so far
    assert bytes(ex._image.value) == ex.picture()
    before = ex._image.value
    ex._controls["layer"].value = "relu2"                                 # what a user's choice does
    assert ex.state["layer"] == "relu2" and ex._image.value != before
    ex._controls["index"].value = 2                                       # any image, not only those drawn
    assert ex.state["index"] == 2 and bytes(ex._image.value) == ex.picture()
    ex.update(cls=3, index=1)
    assert ex._controls["cls"].value == 3 and ex._controls["index"].value == 1   # update() moves the controls


# -- gradients ------------------------------------------------------------------------------

def test_gradient_explorer_all_settings(model, tiny_data):
    images, labels = tiny_data
    ex = GradientExplorer(model, images, labels, cls=2)
    for objective in ("loss", "score"):
        for mode in ("raw", "abs", "grad_x_input"):
            assert isinstance(ex.draw(objective=objective, mode=mode, layer="relu1"), Figure)
    n = ex.image_number(2, 0)
    rec = record(model, to_input(images[n:n + 1]), targets=2, objective="loss")
    assert f"= {rec.values[0]:.3f}" in texts(ex.draw())                  # target -1: the true class
    rec = record(model, to_input(images[n:n + 1]), targets=5, objective="score")
    assert f"score of {CLASS_NAMES[5]} = {rec.values[0]:.3f}" in texts(ex.draw(target=5, objective="score"))
    assert isinstance(ex.draw(layer="fc2"), Figure)
    with pytest.raises(ValueError, match="mode"):
        ex.update(mode="squared")
    with pytest.raises(ValueError, match="target"):
        ex.update(target=10)


def test_gradient_pictures_drawn_in_advance(model, tiny_data, monkeypatch):
    ex = GradientExplorer(model, *tiny_data, cls=2, layer="relu1", precomputed_layers=["conv1"])
    fake_pictures(monkeypatch, ex)
    ex.widget
    view = ex._view
    assert [c.key for c in view.choices] == ["cls", "target", "objective", "mode", "layer"]
    assert view.total == 10 * 11 * 2 * 3 * 2
    # every class, display and layer for the true class's loss; every target and objective for class 2 at relu1
    assert view.count == 10 * 3 * 2 + 11 * 2 * 3 - 3
    assert choose(ex) == ex.picture()
    assert choose(ex, cls=5, mode="abs", layer="conv1") == ex.picture(cls=5, mode="abs", layer="conv1")
    assert choose(ex, cls=2, target=7, objective="score", mode="grad_x_input", layer="relu1") == \
        ex.picture(target=7, objective="score", mode="grad_x_input")
    assert choose(ex, cls=5, layer="conv1") is None                      # target 7 of class 5: not drawn
    assert "Pullover at layer relu1" in ex.precomputed_note


def test_gradient_live_mode(model, tiny_data):
    ex = GradientExplorer(model, *tiny_data)
    ex.live
    before = ex._image.value
    ex._controls["mode"].value = "abs"
    assert ex.state["mode"] == "abs" and ex._image.value != before
    ex._controls["target"].value = 3
    ex._controls["objective"].value = "score"
    assert ex.state["target"] == 3 and ex.state["objective"] == "score"
    ex._update_from_widget(target=10)                                     # a problem is shown, not raised
    assert "target must be" in ex._status.value


# -- filters through training ------------------------------------------------------------------

@pytest.fixture
def checkpoints(tmp_path):
    model = lenet_bn(seed=0)
    start = model.state_dict()
    model["conv1"].weight.data += 0.1
    path = save_checkpoint(tmp_path / "step_000010.npz", model)
    return [(0, start), (10, path)]


def test_training_explorer(checkpoints, tiny_data):
    images, labels = tiny_data
    ex = TrainingExplorer(lenet_bn(seed=5), checkpoints, images[0], title="image 0", eval_data=(images, labels))
    assert ex.steps == [0, 10] and ex.state == {"step": 10}
    assert np.allclose(ex.frames[10]["weight"] - ex.frames[0]["weight"], 0.1)
    assert ex.frames[0]["maps"].shape == (6, 28, 28)
    assert 0 <= ex.frames[0]["accuracy"] <= 1
    fig = ex.draw(step=0)
    assert "after 0 training steps" in texts(fig) and "change since step 0: 0.0%" in texts(fig)
    assert "after 10 training steps" in texts(ex.update(step=7))         # snaps to the nearest saved step
    assert ex.state == {"step": 10}
    widget = ex.widget
    assert widget.children[0] is ex._view.widget                         # every step drawn: no live mode
    assert list(ex._view.controls[0].options) == ["0", "10"] and ex._view.controls[0].index == 1
    assert choose(ex, step=0) == ex.picture(step=0) and choose(ex, step=10) == ex.picture()


def test_training_explorer_needs_checkpoints(tiny_data):
    with pytest.raises(ValueError, match="no checkpoints"):
        TrainingExplorer(lenet_bn(), [], tiny_data[0][0])


# -- convolution playground -------------------------------------------------------------------

def test_correlate_same_equals_loops():
    rng = np.random.default_rng(0)
    image, kernel = rng.random((7, 6)), rng.standard_normal((3, 3))
    padded = np.pad(image, 1)
    loops = np.array([[np.sum(padded[i:i + 3, j:j + 3] * kernel) for j in range(6)] for i in range(7)])
    assert np.allclose(correlate_same(image, kernel), loops)
    assert np.allclose(correlate_same(image, preset_kernel("identity", 5)), image)


@pytest.mark.parametrize("size", [3, 5])
def test_presets(size):
    for name in PRESET_KERNELS:
        k = preset_kernel(name, size)
        assert k.shape == (size, size), name
    for name in ("box blur", "gaussian blur", "sharpen", "identity", "emboss"):
        assert np.isclose(preset_kernel(name, size).sum(), 1, atol=1e-12), name  # keep a flat region's brightness
    for name in ("vertical edges", "horizontal edges", "outline"):
        assert np.isclose(preset_kernel(name, size).sum(), 0, atol=1e-9), name   # flat regions give 0
    with pytest.raises(ValueError):
        preset_kernel("blur", size)
    with pytest.raises(ValueError):
        preset_kernel("identity", 4)


def test_playground_presets_custom_values_and_sizes(tiny_data):
    pg = ConvPlayground(*tiny_data, cls=1)
    assert pg.state["preset"] == "vertical edges" and pg.state["kernel"].shape == (3, 3)
    image, out = pg.output(1, 0, preset_kernel("identity"))
    assert np.allclose(out, image) and image.max() <= 1
    pg.update(preset="sharpen")
    assert np.array_equal(pg.state["kernel"], preset_kernel("sharpen"))
    pg.update(size=5)
    assert np.array_equal(pg.state["kernel"], preset_kernel("sharpen", 5))
    custom = np.zeros((5, 5))
    custom[2, 1:4] = [1, -2, 1]
    pg.update(kernel=custom)
    assert pg.state["preset"] == "custom" and np.array_equal(pg.state["kernel"], custom)
    pg.update(size=3)                                                     # a custom kernel keeps its centre
    assert np.array_equal(pg.state["kernel"], custom[1:4, 1:4])
    assert isinstance(pg.draw(preset="emboss", size=5), Figure)
    assert pg.state["preset"] == "custom"
    assert ConvPlayground(*tiny_data, kernel=np.ones((3, 3))).state["preset"] == "custom"


def test_playground_pictures_drawn_in_advance(tiny_data, monkeypatch):
    pg = ConvPlayground(*tiny_data, cls=1, preset="sharpen", size=5)
    fake_pictures(monkeypatch, pg)
    pg.widget
    assert [c.key for c in pg._view.choices] == ["cls", "preset", "size"]
    assert pg._view.values() == {"cls": 1, "preset": "sharpen", "size": 5}
    assert pg._view.count == 10 * len(PRESET_KERNELS) * 2
    shown = choose(pg, cls=4, preset="outline", size=3)
    assert shown == pg.picture(cls=4, preset="outline", size=3)
    assert repr(preset_kernel("outline", 3)).encode() in shown            # a precomputed preset draws its kernel
    custom = ConvPlayground(*tiny_data, kernel=np.ones((3, 3)))
    assert [v for _, v in custom.precomputed_choices()[1].options][-1] == "custom"


def test_playground_live_cells(tiny_data):
    pg = ConvPlayground(*tiny_data)
    pg.live
    assert len(pg._grid.children) == 9
    assert [c.value for c in pg._grid.children] == list(preset_kernel("vertical edges").ravel())
    pg._controls["size"].value = 5
    assert len(pg._grid.children) == 25 and pg.state["kernel"].shape == (5, 5)
    before = pg._image.value
    pg._grid.children[12].value = 3.0                                     # the user types a value
    assert pg.state["preset"] == "custom" and pg.state["kernel"][2, 2] == 3.0
    assert pg._controls["preset"].value == "custom" and pg._image.value != before
    pg._controls["preset"].value = "box blur"
    assert np.allclose(pg.state["kernel"], 1 / 25, atol=1e-3)
    assert pg._grid.children[0].value == pytest.approx(0.04)
