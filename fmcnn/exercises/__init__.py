"""Exercises that check themselves, and grading a whole class.

- :func:`check` (also ``fmcnn.check``): run your function on the visible cases.
- :data:`EXERCISES` / :data:`NOTEBOOKS`: the registry of graded functions and concept questions;
  :mod:`.mistakes` lists the common mistakes whose likely cause the check names.
- ``fmcnn exercises generate``: build ``exercises/`` from ``solutions/`` (:mod:`.generate`).
- ``fmcnn grade``: grade a folder of submissions in isolated processes (:mod:`.grade`).
"""
from .checker import CheckResult, check
from .registry import EXERCISES, NOTEBOOKS, TOTAL_POINTS, Exercise, get_exercise

__all__ = ["CheckResult", "EXERCISES", "Exercise", "NOTEBOOKS", "TOTAL_POINTS", "check", "get_exercise"]
