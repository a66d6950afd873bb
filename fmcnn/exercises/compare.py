"""Judging one call: turn a function's return value into arrays and compare them with the reference.

Shared by the notebook checker (:func:`fmcnn.check`) and the grader, so a case
passes in a student's notebook exactly when it would pass in grading. Nothing
here ever formats a whole expected array: a verdict shows at most one element.
"""
import os
import sysconfig
import traceback
from typing import NamedTuple

import numpy as np


class Tolerance(NamedTuple):
    """|got - expected| <= atol * scale + rtol * |expected|, where scale is the largest |expected| of
    that output (so tiny entries of a big array are not over-judged)."""

    rtol: float
    atol: float


#: Tolerances by the precision of a case's inputs. A case can also carry its own :class:`Tolerance`.
TOLERANCES = {np.dtype(np.float64): Tolerance(1e-7, 1e-9), np.dtype(np.float32): Tolerance(1e-4, 1e-5)}

#: For estimates by central differences, compared with exact gradients: in float64 with h = 1e-6 they
#: agree to about 1e-9 of the gradient's scale, while an estimate made in float32 is off by about 10%.
NUMERICAL = Tolerance(1e-5, 1e-6)

# How an output must match the reference's: its dtype exactly ("same"), any float, any integer, or
# "answer": one number, the answer to a question, judged without ever showing the expected value.
DTYPE_RULES = ("same", "float", "int", "answer")


class OutputError(Exception):
    """The return value has the wrong structure (not a tuple of the right length, None, not numeric)."""


def as_outputs(result, names):
    """Turn a return value into a list of arrays, one per name in ``names``.

    One name: ``result`` is that array (or number). Several names: ``result``
    must be a tuple or list of that many values. Raises :class:`OutputError`
    with a friendly message otherwise.
    """
    if len(names) == 1:
        if isinstance(result, (tuple, list)) and len(result) != 0 and not np.isscalar(result[0]) \
                and not isinstance(result[0], (tuple, list)):
            raise OutputError(f"returned a {type(result).__name__} of {len(result)} values; "
                              f"expected a single array ({names[0]})")
        values = [result]
    else:
        if not isinstance(result, (tuple, list)):
            what = "None (is the `return` missing?)" if result is None else f"a {type(result).__name__}"
            raise OutputError(f"returned {what}; expected a tuple of {len(names)} values ({', '.join(names)})")
        if len(result) != len(names):
            raise OutputError(f"returned {len(result)} values; expected {len(names)} ({', '.join(names)})")
        values = list(result)
    arrays = []
    for name, value in zip(names, values):
        if value is None:
            raise OutputError(f"{name} is None (is the `return` missing?)")
        try:
            array = np.asarray(value)
        except Exception as e:                                   # noqa: BLE001 - student objects can raise anything
            raise OutputError(f"{name} could not be turned into an array ({type(e).__name__})") from None
        if array.dtype.kind not in "biuf":
            raise OutputError(f"{name} is not an array of numbers (got {type(value).__name__} "
                              f"with dtype {array.dtype})")
        arrays.append(array)
    return arrays


def format_shape(shape):
    return "a scalar, shape ()" if shape == () else str(tuple(int(s) for s in shape))


def _format_index(index):
    return "" if index == () else f" at index {index[0] if len(index) == 1 else index}"


def _dtype_message(name, got, expected, rule):
    """Return a message if ``got``'s dtype breaks ``rule``, else None."""
    if rule == "float":
        return None if got.kind == "f" else f"{name}: wrong dtype: got {got}, expected a floating-point dtype"
    if rule == "int":
        return None if got.kind in "iu" else f"{name}: wrong dtype: got {got}, expected an integer dtype"
    if got == expected:
        return None
    message = f"{name}: wrong dtype: got {got.str if got.byteorder == '>' else got}, expected {expected}"
    if got.newbyteorder("=") == expected:
        message += " in native byte order (convert with .astype(arr.dtype.newbyteorder('=')))"
    elif got.kind == "f" and expected.kind == "f":
        message += " (the output should have the input's dtype)"
    return message


def tolerance(precision):
    """The :class:`Tolerance` for a case's ``precision``: float32, float64 or a Tolerance of its own."""
    if isinstance(precision, Tolerance):
        return precision
    return TOLERANCES.get(np.dtype(precision), TOLERANCES[np.dtype(np.float64)])


def beyond_tolerance(got, expected, precision):
    """``(errors, wrong)`` for two arrays of one shape: |got - expected| as float64 (inf where got is
    not finite) and the mask of the entries beyond the case's tolerance."""
    rtol, atol = tolerance(precision)
    g, e = got.astype(np.float64), expected.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.where(np.isfinite(g), np.abs(g - e), np.inf)
    scale = float(np.max(np.abs(e))) if e.size else 0.0
    return err, err > atol * scale + rtol * np.abs(e)


def close(got, expected, precision):
    """True when ``got`` is numeric, has ``expected``'s shape and every value is within the tolerance."""
    got, expected = np.asarray(got), np.asarray(expected)
    return got.dtype.kind in "biuf" and got.shape == expected.shape and \
        not beyond_tolerance(got, expected, precision)[1].any()


def _answer_message(name, got, expected, precision):
    """Judge the answer to a question: one number, never showing the expected one."""
    if got.size != 1:
        return f"{name}: give a single number, not an array of shape {format_shape(got.shape)}"
    if close(got.reshape(()), expected.reshape(()), precision):
        return None
    return f"{name}: not the right answer yet"


def compare_output(name, got, expected, precision, rule="same"):
    """Compare one output array with the reference. Returns None if it matches, else a one-line message.

    The message says what differs: the shape, the dtype, or for values the
    largest error, where it is, and the two numbers there. With the rule
    "answer" it says only whether the answer is right.
    """
    if rule == "answer":
        return _answer_message(name, got, expected, precision)
    if got.shape != expected.shape:
        return f"{name}: wrong shape: got {format_shape(got.shape)}, expected {format_shape(expected.shape)}"
    message = _dtype_message(name, got.dtype, expected.dtype, rule)
    if message:
        return message
    if got.size == 0:
        return None
    if expected.dtype.kind in "biu" and got.dtype.kind in "biu":
        wrong = got != expected
        if not wrong.any():
            return None
        index = tuple(int(i) for i in np.argwhere(wrong)[0])
        return (f"{name}: {int(wrong.sum())} of {wrong.size} values differ, the first{_format_index(index)}: "
                f"got {got[index]}, expected {expected[index]}")
    err, wrong = beyond_tolerance(got, expected, precision)
    if not wrong.any():
        return None
    index = tuple(int(i) for i in np.unravel_index(int(np.argmax(err)), err.shape))
    return (f"{name}: largest error {err[index]:.3g}{_format_index(index)}: "
            f"got {float(got[index]):.6g}, expected {float(expected[index]):.6g}")


def judge(result, expected, names, precision, rules, explain=None):
    """Compare a function's return value with the reference outputs.

    Args:
        result: what the student's function returned.
        expected: list of reference arrays, one per output.
        names, rules: output names and their dtype rules (see :data:`DTYPE_RULES`).
        precision: the case's float dtype or Tolerance, which sets the tolerance.
        explain: optional ``(name, got, expected) -> cause or None``, asked about each wrong output;
            a cause it names is added to that output's message.
    Returns ``(credit, message)``: credit is the fraction of outputs that match
    (0 to 1) and message is "passed" or what went wrong.
    """
    try:
        got = as_outputs(result, names)
    except OutputError as e:
        return 0.0, str(e)
    return judge_arrays(got, expected, names, precision, rules, explain)


def judge_arrays(got, expected, names, precision, rules, explain=None):
    """Like :func:`judge` for outputs already turned into arrays."""
    problems = []
    for name, g, e, rule in zip(names, got, expected, rules):
        problem = compare_output(name, g, e, precision, rule)
        cause = explain(name, g, e) if problem and explain else None
        problems.append(f"{problem}; likely cause: {cause}" if cause else problem)
    wrong = [p for p in problems if p]
    credit = (len(problems) - len(wrong)) / len(problems)
    return credit, "passed" if not wrong else "; ".join(wrong)


# --- exceptions ------------------------------------------------------------------------------

def _library_dirs():
    paths = {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.dirname(os.path.dirname(np.__file__)))
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))   # the fmcnn package
    return tuple(os.path.realpath(p) + os.sep for p in paths)


_LIBRARY_DIRS = _library_dirs()


def _is_student_frame(filename):
    if filename.startswith("<"):
        return filename.startswith("<cell")
    return not os.path.realpath(filename).startswith(_LIBRARY_DIRS)


def describe_exception(exc, limit=200):
    """One line: the exception, its message, and the deepest line of the student's own code.

    E.g. ``IndexError: index 5 is out of bounds for axis 0 with size 5
    (line 12 of conv_forward: out[n, o, i, j] = ...)``. Line numbers count from
    the top of the cell that defines the function. No file paths are shown.
    """
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > limit:
        message = message[:limit] + "..."
    text = type(exc).__name__ + (f": {message}" if message else "")
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if _is_student_frame(f.filename)]
    if frames:
        frame = frames[-1]
        line = (frame.line or "").strip()
        if len(line) > 80:
            line = line[:77] + "..."
        where = "the cell" if frame.name == "<module>" else frame.name
        text += f" (line {frame.lineno} of {where}" + (f": {line})" if line else ")")
    return text
