"""The child process's helpers, run in this process: cells, alarms, outputs."""
import numpy as np

from fmcnn.exercises.runner import python_source, run_cells, run_exercise


def test_ipython_lines_become_pass():
    assert python_source("%matplotlib inline\nx = 1\n    !ls\n%%time") == \
        ("pass  # IPython-only line skipped by the grader\nx = 1\n"
         "    pass  # IPython-only line skipped by the grader\npass  # IPython-only line skipped by the grader")


def test_run_cells_notes_failures_and_goes_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace = {}
    cells = [("a = 1", "a = 1"), ("def broken(:", "def broken(:\n    pass"), ("1 / 0", "b = 2\n1 / 0"),
             ("while True:", "while True:\n    pass"), ("c = a + b", "c = a + b")]
    notes = run_cells(cells, namespace, step_timeout=0.3, progress={"cells": []})
    assert namespace["c"] == 3
    assert notes == ["code cell 2 (def broken(:) has a syntax error at line 1: invalid syntax; nothing in it was run",
                     "code cell 3 (1 / 0) raised ZeroDivisionError: division by zero (line 2 of the cell: 1 / 0)",
                     "code cell 4 (while True:) was stopped after 0.3 s"]


def test_run_exercise_records():
    cases = [(np.ones(2),), (np.zeros(3),), (-np.ones(1),)]

    def f(x):
        if x.size == 3:
            return None
        if x[0] < 0:
            raise ValueError("negative")
        return x * 2

    records, arrays = run_exercise(f, ("out",), cases, step_timeout=5)
    assert [r["status"] for r in records] == ["ok", "error", "error"]
    assert "returned None" not in records[1]["message"] and "out is None" in records[1]["message"]
    assert records[2]["message"].startswith("raised ValueError: negative")
    assert list(arrays) == ["c0_0"] and np.array_equal(arrays["c0_0"], [2, 2])

    def stub(x):
        raise NotImplementedError

    assert [r["status"] for r in run_exercise(stub, ("out",), cases, 5)[0]] == ["not_implemented"] * 3

    def slow(x):
        while x.size == 3:
            pass
        return x

    records, _ = run_exercise(slow, ("out",), cases, step_timeout=0.3)
    assert [r["status"] for r in records] == ["ok", "timeout", "timeout"]
    assert "longer than 0.3 s" in records[1]["message"]
