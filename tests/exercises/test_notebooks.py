"""The notebooks themselves: solutions pass every check; exercises run, say "not implemented yet", and
their planted bugs fail every hidden case."""
import json
import re

import nbformat
import pytest
from nbclient import NotebookClient

from .helpers import EXERCISES, SOLUTIONS
from fmcnn.exercises import EXERCISES as REGISTRY, NOTEBOOKS
from fmcnn.exercises.checker import run_cases

CHECK = re.compile(r'^fmcnn\.check\("(\w+)", (\w+)\)$')


def check_cells(nb):
    """[(exercise name, cell)] for the check cells of a notebook, in order."""
    return [(m.group(1), c) for c in nb.cells if c.cell_type == "code" and (m := CHECK.match(c.source.strip()))]


def text_output(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


@pytest.mark.parametrize("stem", list(NOTEBOOKS))
def test_solution_defines_each_function_then_checks_it(stem):
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    assert [name for name, _ in check_cells(nb)] == NOTEBOOKS[stem]
    sources = [c.source for c in nb.cells if c.cell_type == "code"]
    for name in NOTEBOOKS[stem]:
        definition = next(i for i, s in enumerate(sources) if s.startswith(f"def {name}("))
        assert CHECK.match(sources[definition + 1].strip()).group(1) == name
        assert "### BEGIN SOLUTION" in sources[definition] or "### BEGIN FIX" in sources[definition]
        assert '"""' in sources[definition]
        assert f"({REGISTRY[name].points} point" in "".join(c.source for c in nb.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("stem", list(NOTEBOOKS))
def test_committed_solution_outputs_show_every_check_passed(stem):
    """nbval (run by CI over solutions/) compares these outputs with a fresh run."""
    nb = nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)
    for name, cell in check_cells(nb):
        n = len(REGISTRY[name].cases())
        verdict = "right." if REGISTRY[name].question else f"all {n} cases passed."
        assert text_output(cell).startswith(f"{name}: {verdict}"), name
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)


@pytest.mark.parametrize("stem", list(NOTEBOOKS))
def test_exercise_runs_top_to_bottom_and_says_not_implemented(stem):
    nb = nbformat.read(EXERCISES / f"{stem}.ipynb", as_version=4)
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(EXERCISES)}}).execute()
    checks = check_cells(nb)
    assert [name for name, _ in checks] == NOTEBOOKS[stem]
    for name, cell in checks:
        if REGISTRY[name].question:
            verdict = "not answered yet."
        elif stem == "debugging":                                  # a planted bug, not a stub
            verdict = f"0 of {len(REGISTRY[name].cases())} cases passed."
        else:
            verdict = "not implemented yet."
        assert text_output(cell).startswith(f"{name}: {verdict}"), text_output(cell)
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert json.loads(nbformat.writes(nb))                        # still a valid notebook


def test_each_planted_bug_fails_every_hidden_case():
    """Untouched, a debugging exercise earns nothing: its bug shows in every case the grader runs."""
    nb = nbformat.read(EXERCISES / "debugging.ipynb", as_version=4)
    namespace = {}
    for cell in nb.cells:
        if cell.cell_type == "code" and not CHECK.match(cell.source.strip()):
            exec(cell.source, namespace)
    for name in NOTEBOOKS["debugging"]:
        if not REGISTRY[name].question:
            result = run_cases(REGISTRY[name], namespace[name], REGISTRY[name].cases(hidden=True))
            assert [c.credit for c in result.cases] == [0.0] * len(result.cases), result.report()
