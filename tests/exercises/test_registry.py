"""The exercise table: enough exercises, points, and visible/hidden cases of the same kinds."""
import numpy as np
import pytest

from .helpers import EXERCISES as EXERCISES_DIR, SOLUTIONS
from fmcnn.exercises import EXERCISES, NOTEBOOKS, TOTAL_POINTS, check, get_exercise


def same(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape \
            and a.dtype == b.dtype and np.array_equal(a, b)
    return a == b


def kind(label):
    return label.split(":")[0]


def test_at_least_twelve_graded_functions_worth_fifty_points():
    assert len(EXERCISES) >= 12
    assert TOTAL_POINTS == 50 and all(e.points > 0 for e in EXERCISES.values())
    assert list(NOTEBOOKS) == ["01_data", "02_softmax", "03_linear_relu", "04_conv_forward", "05_conv_backward",
                               "06_pooling", "07_batchnorm", "09_optimizers", "10_metrics"]
    for stem in NOTEBOOKS:
        assert (SOLUTIONS / f"{stem}.ipynb").exists() and (EXERCISES_DIR / f"{stem}.ipynb").exists()


def test_unknown_name_lists_the_exercises():
    with pytest.raises(KeyError, match="conv_forward"):
        get_exercise("conv_fwd")


@pytest.mark.parametrize("name", list(EXERCISES))
def test_hidden_cases_are_the_same_kinds_with_other_inputs(name):
    ex = EXERCISES[name]
    visible, hidden = ex.cases(), ex.cases(hidden=True)
    assert len(visible) == len(hidden) >= 3
    assert [kind(c.label) for c in visible] == [kind(c.label) for c in hidden]
    for v, h in zip(visible, hidden):
        assert not all(same(a, b) for a, b in zip(v.args, h.args)), v.label
    again = ex.cases(hidden=True)
    assert all(same(a, b) for c1, c2 in zip(hidden, again) for a, b in zip(c1.args, c2.args))


@pytest.mark.parametrize("name", list(EXERCISES))
def test_reference_passes_and_leaves_its_inputs_alone(name):
    ex = EXERCISES[name]
    assert check(name, ex.reference, verbose=False).passed
    for case in ex.cases(hidden=True):
        before = [a.copy() if isinstance(a, np.ndarray) else a for a in case.args]
        ex.reference(*case.args)
        assert all(same(a, b) for a, b in zip(before, case.args))


@pytest.mark.parametrize("name", [n for n in EXERCISES if n not in ("parse_idx", "accuracy", "confusion_matrix")])
def test_float_exercises_have_float32_and_float64_cases(name):
    precisions = {c.precision for c in EXERCISES[name].cases(hidden=True)}
    assert precisions == {np.float32, np.float64}
