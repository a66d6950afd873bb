"""Judging one output: shapes, dtypes, values, and the messages the student sees."""
import numpy as np
import pytest

from fmcnn.exercises.compare import (TOLERANCES, OutputError, Tolerance, as_outputs, compare_output,
                                     describe_exception, judge, tolerance)

F64, F32 = np.float64, np.float32


def test_as_outputs_structure_errors():
    assert [a.shape for a in as_outputs((np.zeros(2), np.ones((1, 3))), ("dx", "dw"))] == [(2,), (1, 3)]
    assert as_outputs(1.5, ("loss",))[0].shape == ()
    for result, names, message in [
            (None, ("dx", "dw"), "returned None"),
            ((1, 2, 3), ("dx", "dw"), "returned 3 values; expected 2"),
            ((np.zeros(2), np.zeros(2)), ("out",), "tuple of 2 values; expected a single array"),
            ((np.zeros(2), None), ("dx", "dw"), "dw is None"),
            ("text", ("out",), "not an array of numbers")]:
        with pytest.raises(OutputError, match=message):
            as_outputs(result, names)


def test_compare_messages():
    e = np.arange(12, dtype=F64).reshape(3, 4)
    assert compare_output("out", e.copy(), e, F64) is None
    assert compare_output("out", e[:2], e, F64) == "out: wrong shape: got (2, 4), expected (3, 4)"
    assert "wrong dtype: got float32, expected float64" in compare_output("out", e.astype(F32), e, F64)
    got = e.copy()
    got[1, 2] += 0.5
    assert compare_output("out", got, e, F64) == \
        "out: largest error 0.5 at index (1, 2): got 6.5, expected 6"
    got[0, 0] = np.nan
    assert "largest error inf at index (0, 0): got nan" in compare_output("out", got, e, F64)
    assert "scalar, shape ()" in compare_output("loss", np.zeros(1), np.float64(0.0), F64)
    big_endian = np.arange(3, dtype=">i2")
    assert "native byte order" in compare_output("a", big_endian, np.arange(3, dtype=np.int16), F64)
    assert compare_output("c", np.array([1, 2], np.int32), np.array([1, 3]), F64, "int") == \
        "c: 1 of 2 values differ, the first at index 1: got 2, expected 3"
    assert "expected an integer dtype" in compare_output("c", np.array([1.0]), np.array([1]), F64, "int")


def test_tolerance_depends_on_precision():
    e = np.ones(4, dtype=F32)
    assert compare_output("out", e * (1 + 3e-5), e, F32) is None
    assert compare_output("out", e * (1 + 3e-5), e, F64) is not None


def test_judge_gives_a_share_per_correct_output():
    e = [np.ones(2), np.zeros(3), np.ones(1)]
    assert judge((np.ones(2), np.zeros(3), np.ones(1)), e, ("dx", "dw", "db"), F64, ("same",) * 3) == (1.0, "passed")
    credit, message = judge((np.ones(2), np.zeros(3), np.zeros(1)), e, ("dx", "dw", "db"), F64, ("same",) * 3)
    assert credit == pytest.approx(2 / 3) and message.startswith("db: largest error 1")
    assert judge(None, e, ("dx", "dw", "db"), F64, ("same",) * 3)[0] == 0


def test_describe_exception_points_at_the_students_line():
    namespace = {"np": np}
    source = "def f(x):\n    y = x + 1\n    return y[5]\n"
    exec(compile(source, "<cell 3>", "exec"), namespace)
    import linecache
    linecache.cache["<cell 3>"] = (len(source), None, source.splitlines(True), "<cell 3>")
    with pytest.raises(IndexError) as info:
        namespace["f"](np.zeros(2))
    text = describe_exception(info.value)
    assert text == "IndexError: index 5 is out of bounds for axis 0 with size 2 (line 3 of f: return y[5])"


def test_a_case_can_carry_its_own_tolerance():
    e = np.ones(4)
    loose = Tolerance(1e-5, 1e-6)
    assert compare_output("dx", e * (1 + 3e-6), e, loose) is None
    assert compare_output("dx", e * (1 + 3e-6), e, F64) is not None
    assert compare_output("dx", e * (1 + 3e-5), e, loose) is not None
    assert tolerance(F32) == TOLERANCES[np.dtype(F32)] and tolerance(loose) is loose


def test_answers_are_judged_without_showing_the_expected_value():
    exact = Tolerance(0.0, 0.0)
    assert compare_output("answer", np.array(156), np.array(156), exact, "answer") is None
    assert compare_output("answer", np.array(156.0), np.array(156), exact, "answer") is None    # a float is fine
    wrong = compare_output("answer", np.array(155), np.array(156), exact, "answer")
    assert wrong == "answer: not the right answer yet" and "156" not in wrong
    assert compare_output("answer", np.array(2.3026), np.array(np.log(10)), Tolerance(1e-3, 0), "answer") is None
    assert "give a single number" in compare_output("answer", np.array([1, 2]), np.array(3), exact, "answer")
    assert judge(np.nan, [np.array(0.5)], ("answer",), exact, ("answer",)) == (0.0, "answer: not the right answer yet")
