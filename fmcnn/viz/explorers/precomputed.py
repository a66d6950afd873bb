"""An explorer's rendering for a web page with no Python behind it.

The pictures for a discrete set of settings are drawn in advance, when the notebook
runs, and stored in the notebook's widget state (which the book's page carries), one
``ipywidgets.Image`` each. They sit at the leaves of nested ``Stack`` widgets, one level
per control. A Stack shows only its selected child, and a ``jsdlink`` ties its
``selected_index`` to its control's ``index``: a link that ipywidgets' own JavaScript
keeps in the browser. So choosing a value shows its picture at once, in the static book
as in Jupyter, with only the widget JavaScript the book already serves. For two controls,
class (3 options) and layer (2):

    Stack <- class.index
      |- Stack <- layer.index:  Image(class 0, layer 0), Image(class 0, layer 1)
      |- Stack <- layer.index:  Image(class 1, layer 0), Image(class 1, layer 1)
      '- Stack <- layer.index:  Image(class 2, layer 0), Image(class 2, layer 1)

Every Stack of a level is linked to that level's control, so each keeps the index of
the value chosen, and the chosen path leads to the chosen picture.
"""
from math import prod
from typing import NamedTuple


class Choice(NamedTuple):
    """One control of the precomputed rendering: the explorer setting ``key`` takes one of the
    values of ``options``, ``((label, value), ...)``, shown as a "dropdown", "buttons" or a "slider"
    labelled ``description``."""

    key: str
    description: str
    options: tuple
    kind: str = "dropdown"

    def index_of(self, value):
        """Position of ``value`` among the options (0 if it is not one of them)."""
        return next((i for i, (_, v) in enumerate(self.options) if v == value), 0)


def settings_label(indices):
    """The CSS class of the picture shown when control k is at option ``indices[k]``:
    ``fmcnn-settings-3-0-7``. The browser test reads it."""
    return "fmcnn-settings-" + "-".join(map(str, indices))


SPACED = {"margin": "2px 16px 2px 0"}
BUTTONS_STYLE = {"button_width": "auto", "description_width": "initial"}
BUTTONS_LAYOUT = {**SPACED, "display": "flex", "flex": "0 0 auto", "align_items": "center"}
"""Controls with some space after them; toggle buttons as wide as their labels, their description
beside them, kept on one line (a row of controls too narrow for all of them wraps instead)."""


def choice_control(widgets, choice, index):
    """The selection widget of ``choice``, at option ``index``; its ``index`` is what the Stacks follow."""
    beside = {"description_width": "initial"}         # the description beside the control, not cut off
    kinds = {"dropdown": lambda **kw: widgets.Dropdown(layout={**SPACED, "width": "max-content"}, style=beside, **kw),
             "buttons": lambda **kw: widgets.ToggleButtons(style=BUTTONS_STYLE, layout=BUTTONS_LAYOUT, **kw),
             "slider": lambda **kw: widgets.SelectionSlider(continuous_update=False, style=beside,
                                                            layout={**SPACED, "width": "460px"}, **kw)}
    control = kinds[choice.kind](options=[label for label, _ in choice.options], index=index,
                                 description=choice.description)
    control.add_class("fmcnn-choice")
    return control


class PrecomputedView:
    """The controls of ``choices`` and, below them, the picture of every combination of their
    values, switched by the browser.

    Args:
        widgets: the ipywidgets module.
        choices: list of :class:`Choice`, outermost first (the order of the controls).
        initial: the option index each control starts at.
        picture: ``picture(settings)`` -> PNG bytes, or None for a combination that is not
            drawn in advance (``settings`` maps each choice's key to a value).
        placeholder: HTML shown for a combination with no picture.

    ``widget`` is the whole view, ``controls`` the control widgets, ``links`` the
    ``jsdlink`` objects, ``count`` the number of combinations with a picture and ``total``
    the number of combinations. Two combinations with the same picture share one Image
    (:meth:`pictures` lists each once).
    """

    def __init__(self, widgets, choices, initial, picture, placeholder):
        self.choices = list(choices)
        self.controls = [choice_control(widgets, c, i) for c, i in zip(self.choices, initial)]
        self.links = []
        self.count = 0
        self.total = prod(len(c.options) for c in self.choices)
        self._widgets = widgets
        self._picture = picture
        self._images = {}                         # PNG bytes -> Image
        # One Layout for all images and one for all Stacks: each would otherwise add a model to the page.
        self._image_layout = widgets.Layout(max_width="100%", height="auto")
        self._stack_layout = widgets.Layout()
        self.placeholder = widgets.HTML(placeholder)
        self.placeholder.add_class("fmcnn-not-precomputed")
        tree = self._subtree(())
        self.widget = widgets.VBox([widgets.HBox(self.controls, layout=widgets.Layout(flex_flow="row wrap")), tree])

    def pictures(self):
        """The distinct PNG pictures drawn (bytes), in the order they were drawn."""
        return list(self._images)

    def values(self):
        """The settings the controls show now: {key: value}."""
        return {c.key: c.options[control.index][1] for c, control in zip(self.choices, self.controls)}

    def _subtree(self, indices):
        """The widget for the combinations that start with ``indices`` (one option index per outer control)."""
        level = len(indices)
        if level == len(self.choices):
            return self._leaf(indices)
        children = [self._subtree(indices + (i,)) for i in range(len(self.choices[level].options))]
        if all(child is self.placeholder for child in children):
            return self.placeholder
        control = self.controls[level]
        stack = self._widgets.Stack(children, selected_index=control.index, layout=self._stack_layout)
        self.links.append(self._widgets.jsdlink((control, "index"), (stack, "selected_index")))
        return stack

    def _leaf(self, indices):
        png = self._picture({c.key: c.options[i][1] for c, i in zip(self.choices, indices)})
        if png is None:
            return self.placeholder
        self.count += 1
        if png not in self._images:
            self._images[png] = self._widgets.Image(value=png, format="png", layout=self._image_layout)
            self._images[png].add_class("fmcnn-picture")
        image = self._images[png]
        image.add_class(settings_label(indices))
        return image
