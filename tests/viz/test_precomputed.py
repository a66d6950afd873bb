"""The pictures drawn in advance and the links that switch between them, without a browser.

The browser keeps each Stack's ``selected_index`` equal to its control's ``index``
(a ``jsdlink``); ``shown`` does what those links do, so these tests check that every
combination of control values leads to its own picture. The built book's
pages are checked in a real browser by test_static_book.py.
"""
import itertools

import ipywidgets as widgets
import pytest
from ipywidgets.embed import dependency_state

from fmcnn.viz.explorers.precomputed import Choice, PrecomputedView, settings_label

from .widget_links import shown

CHOICES = [Choice("cls", "class", (("a", 0), ("b", 1), ("c", 2))),
           Choice("mode", "show", (("raw", "raw"), ("abs", "abs")), "buttons"),
           Choice("step", "step", (("1", 1), ("5", 5), ("9", 9), ("20", 20)), "slider")]


def fake_png(settings):
    """Bytes that name the settings: each combination gets its own recognizable 'picture'."""
    return repr(sorted(settings.items())).encode()


def test_every_combination_shows_its_own_picture():
    view = PrecomputedView(widgets, CHOICES, [2, 0, 1], fake_png, "not drawn")
    assert view.count == view.total == 3 * 2 * 4
    assert [c.index for c in view.controls] == [2, 0, 1]
    assert [type(c).__name__ for c in view.controls] == ["Dropdown", "ToggleButtons", "SelectionSlider"]
    assert [c.description for c in view.controls] == ["class", "show", "step"]
    assert list(view.controls[2].options) == ["1", "5", "9", "20"]
    assert len(view.links) == 1 + 3 + 3 * 2          # one link per Stack: 1 + 3 + 6 Stacks
    assert bytes(shown(view).value) == fake_png({"cls": 2, "mode": "raw", "step": 5})
    for indices in itertools.product(range(3), range(2), range(4)):
        for control, i in zip(view.controls, indices):
            control.index = i
        picture = shown(view)
        settings = {c.key: c.options[i][1] for c, i in zip(CHOICES, indices)}
        assert bytes(picture.value) == fake_png(settings)
        assert view.values() == settings
        assert settings_label(indices) in picture._dom_classes and "fmcnn-picture" in picture._dom_classes


def test_combinations_not_drawn_show_the_placeholder_and_equal_pictures_are_stored_once():
    def picture(settings):
        if settings["cls"] == 2:                          # class c: never drawn
            return None
        if settings["mode"] == "abs" and settings["step"] > 5:
            return None
        return b"same" if settings["step"] == 20 else fake_png(settings)

    view = PrecomputedView(widgets, CHOICES, [0, 0, 0], picture, "<i>not drawn</i>")
    assert view.total == 24 and view.count == 2 * (4 + 2)
    root = view.widget.children[1]
    assert root.children[2] is view.placeholder          # a whole class without pictures: no Stacks below it
    view.controls[0].index, view.controls[1].index, view.controls[2].index = 1, 1, 3
    assert shown(view) is view.placeholder and "fmcnn-not-precomputed" in view.placeholder._dom_classes
    view.controls[1].index = 0
    same = shown(view)
    assert bytes(same.value) == b"same"
    view.controls[0].index = 0
    assert shown(view) is same                           # one Image for both, labelled with both settings
    assert {settings_label((0, 0, 3)), settings_label((1, 0, 3))} <= set(same._dom_classes)


def test_the_saved_widget_state_holds_pictures_stacks_and_links():
    """What the notebook saves and the book's page carries: every picture and every link."""
    view = PrecomputedView(widgets, CHOICES, [0, 0, 0], fake_png, "not drawn")
    state = dependency_state([view.widget, *view.links])
    models = [m["model_name"] for m in state.values()]
    assert models.count("ImageModel") == 24 and models.count("StackModel") == 10
    assert models.count("DirectionalLinkModel") == 10
    assert models.count("LayoutModel") == 2 + 3 + 2   # shared by the images, by the Stacks; controls; boxes
    links = [m["state"] for m in state.values() if m["model_name"] == "DirectionalLinkModel"]
    assert all(link["source"][1] == "index" and link["target"][1] == "selected_index" for link in links)


def test_choice_index_of():
    assert CHOICES[2].index_of(9) == 2
    assert CHOICES[2].index_of(7) == 0                   # not one of the options: the first
    with pytest.raises(KeyError):
        PrecomputedView(widgets, [Choice("x", "x", (("a", 1),), "wheel")], [0], fake_png, "")
