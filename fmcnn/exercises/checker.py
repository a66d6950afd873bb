"""``fmcnn.check(name, fn)``: run a student's function on the visible cases and say how it did.

Typical use, in the cell after a function in an exercise notebook::

    fmcnn.check("conv_forward", conv_forward)

prints one line per case (passed, or what differs: shape, dtype, the largest
error and where, or the exception and the line of your code that raised it;
and when a wrong output has the signature of a common mistake, its likely
cause, e.g. "overwritten instead of accumulated") and returns a
:class:`CheckResult`. For a concept question, ``fmcnn.check("q_receptive_field",
q_receptive_field)`` prints one line: right, or not yet (never the answer).
The text depends only on the function's results, never on timings or memory
addresses, so executed notebooks are stable.
"""
from dataclasses import dataclass, field

import numpy as np

from .compare import describe_exception, judge
from .cases import copy_args
from .registry import get_exercise


def format_points(x):
    """2.0 -> "2", 2.5 -> "2.5", 2.3333 -> "2.33"."""
    return f"{x:.2f}".rstrip("0").rstrip(".")


def points_earned(points, credits):
    """An exercise's score: ``points`` times the mean of the cases' ``credits`` (each 0-1), rounded
    to 0.01; 0.0 without cases. The notebook check and the class grader both score with this."""
    return round(points * sum(credits) / len(credits), 2) if credits else 0.0


@dataclass
class CaseResult:
    """label: what the case tests; credit: fraction of its outputs that match (0-1); message: the verdict."""

    label: str
    credit: float
    message: str


@dataclass
class CheckResult:
    """What :func:`check` found.

    Attributes: ``name``, ``points`` (the exercise's worth), ``cases`` (a
    :class:`CaseResult` per case run), ``not_implemented`` (the function
    raised NotImplementedError) and ``question`` (a concept question, whose
    report says only whether the answer is right). ``passed`` is True when every case passed;
    ``score`` is what these (visible) cases would earn: points times the mean credit.
    """

    name: str
    points: int
    cases: list = field(default_factory=list)
    not_implemented: bool = False
    question: bool = False

    @property
    def passed(self):
        return not self.not_implemented and bool(self.cases) and all(c.credit == 1 for c in self.cases)

    @property
    def n_passed(self):
        return sum(c.credit == 1 for c in self.cases)

    @property
    def score(self):
        if self.not_implemented:
            return 0.0
        return points_earned(self.points, [c.credit for c in self.cases])

    def summary(self):
        if self.not_implemented:
            return f"{self.name}: not implemented yet"
        return f"{self.name}: {self.n_passed}/{len(self.cases)} cases passed"

    def report(self):
        """The text :func:`check` prints."""
        if self.not_implemented:
            what = "`return` and your answer" if self.question else "your code"
            return (f"{self.name}: not {'answered' if self.question else 'implemented'} yet. Replace "
                    f"`raise NotImplementedError` with {what}, run its cell, then run this check again.")
        if self.question:
            message = self.cases[0].message.removeprefix("answer: ")
            return f"{self.name}: " + ("right. Well done!" if self.passed else f"{message}.")
        total = len(self.cases)
        head = (f"{self.name}: all {total} cases passed. Well done!" if self.passed else
                f"{self.name}: {self.n_passed} of {total} cases passed.")
        lines = [head]
        for i, c in enumerate(self.cases, 1):
            mark = "✓" if c.credit == 1 else "✗"
            lines.append(f"  {mark} case {i} ({c.label}): {c.message}")
        return "\n".join(lines)

    def __repr__(self):
        return f"<CheckResult {self.summary()}, score {format_points(self.score)}/{self.points}>"


def likely_cause(exercise, case, output, got, expected):
    """The cause of the first of ``exercise``'s common mistakes whose signature the wrong ``output``
    of ``case`` has, or None. A signature that cannot even look at such an output is no match."""
    for mistake in exercise.mistakes:
        try:
            with np.errstate(all="ignore"):                      # a mistake made on purpose may overflow
                if mistake.output == output and mistake.matches(got, expected, case.args, case.precision):
                    return mistake.cause
        except Exception:                                        # noqa: BLE001 - e.g. an output of a strange shape
            continue
    return None


def run_cases(exercise, fn, cases):
    """Call ``fn`` on each case (with copies of the inputs) and judge it against the reference.

    If every case raises NotImplementedError the result says "not implemented
    yet"; otherwise such a case is reported like any other exception.
    Returns a :class:`CheckResult`.
    """
    result = CheckResult(exercise.name, exercise.points, question=exercise.question)
    missing = 0
    for case in cases:
        expected = exercise.expected(case)
        try:
            with np.errstate(all="ignore"):                      # an overflow shows in the verdict, as inf or nan
                got = fn(*copy_args(case.args))
        except NotImplementedError as e:
            missing += 1
            result.cases.append(CaseResult(case.label, 0.0, "raised " + describe_exception(e)))
            continue
        except Exception as e:                                   # noqa: BLE001 - report any student error
            result.cases.append(CaseResult(case.label, 0.0, "raised " + describe_exception(e)))
            continue
        credit, message = judge(got, expected, exercise.output_names, case.precision, exercise.output_rules,
                                 explain=lambda name, g, e: likely_cause(exercise, case, name, g, e))
        result.cases.append(CaseResult(case.label, credit, message))
    if missing == len(cases):
        result.not_implemented, result.cases = True, []
    return result


def check(name, fn, verbose=True):
    """Check your function ``fn`` for the exercise ``name`` on the visible test cases.

    Prints a verdict per case (unless ``verbose=False``) and returns a
    :class:`CheckResult` with ``.passed`` and ``.score``. The grader uses other,
    hidden cases of the same kinds, so passing here is a very good sign but
    not a guarantee: don't special-case the inputs you see.
    """
    exercise = get_exercise(name)
    if not callable(fn):
        raise TypeError(f"fmcnn.check({name!r}, fn): fn must be your function, got {type(fn).__name__}")
    result = run_cases(exercise, fn, exercise.cases(hidden=False))
    if verbose:
        print(result.report())
    return result
