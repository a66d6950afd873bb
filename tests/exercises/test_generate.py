"""Generating exercises/ from solutions/: stubs, cleared outputs, and the up-to-date check."""
import shutil

import nbformat
import pytest

from .helpers import EXERCISES, SOLUTIONS, edit_code
from fmcnn.exercises.commands import main
from fmcnn.exercises.generate import MarkerError, exercise_text, generate, make_exercise, strip_solutions


def test_stub_keeps_the_indentation():
    source = "def f(x):\n    \"\"\"Doc.\"\"\"\n    ### BEGIN SOLUTION\n    y = x\n    return y\n    ### END SOLUTION\n\nz = 1"
    assert strip_solutions(source) == \
        "def f(x):\n    \"\"\"Doc.\"\"\"\n    # YOUR CODE HERE\n    raise NotImplementedError\n\nz = 1"
    assert strip_solutions("### BEGIN SOLUTION\na = 1\n### END SOLUTION") == \
        "# YOUR CODE HERE\nraise NotImplementedError"


def test_a_planted_bug_replaces_its_fix_uncommented_with_no_marker_left():
    source = ("def f(d, x):\n    for i in range(3):\n        ### BEGIN FIX\n        d[i:i + 2] += x\n"
              "        ### PLANTED BUG\n        # d[i:i + 2] = x\n        #\n        #   # a comment\n"
              "        ### END FIX\n    return d")
    assert strip_solutions(source) == \
        "def f(d, x):\n    for i in range(3):\n        d[i:i + 2] = x\n\n          # a comment\n    return d"


@pytest.mark.parametrize("source, message", [
    ("### BEGIN SOLUTION\nx", "### BEGIN SOLUTION without its end marker"),
    ("x\n### END SOLUTION", "line 2: ### END SOLUTION without ### BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION", "### BEGIN SOLUTION inside the block opened by"),
    ("### BEGIN FIX\nx\n### END FIX", "line 3: ### END FIX without ### PLANTED BUG"),
    ("### BEGIN SOLUTION\n### PLANTED BUG\n### END SOLUTION", "### PLANTED BUG without ### BEGIN FIX"),
    ("### BEGIN FIX\nx\n### PLANTED BUG\n# y", "### PLANTED BUG without its end marker"),
    ("### BEGIN FIX\nx\n### PLANTED BUG\ny = 1\n### END FIX", "line 4: a planted bug is commented out")])
def test_unbalanced_markers_and_uncommented_bugs_are_errors(source, message):
    with pytest.raises(MarkerError, match=message):
        strip_solutions(source)


def test_exercise_has_stubs_no_outputs_and_the_same_prose():
    solution = nbformat.read(SOLUTIONS / "05_conv_backward.ipynb", as_version=4)
    exercise = make_exercise(solution)
    assert len(exercise.cells) == len(solution.cells)
    for s, e in zip(solution.cells, exercise.cells):
        assert s.cell_type == e.cell_type and s.id == e.id
        if e.cell_type == "markdown":
            assert e.source == s.source
        else:
            assert e.outputs == [] and e.execution_count is None and "SOLUTION" not in e.source
    code = "\n".join(c.source for c in exercise.cells if c.cell_type == "code")
    assert "    # YOUR CODE HERE\n    raise NotImplementedError" in code
    assert 'fmcnn.check("conv_backward", conv_backward)' in code and "np.einsum" not in code
    assert exercise.metadata == {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                "language": "python"}, "language_info": {"name": "python"}}


def test_every_solution_has_markers():
    for path in sorted(SOLUTIONS.glob("*.ipynb")):
        assert exercise_text(path) != path.read_text()
        assert "### BEGIN SOLUTION" in path.read_text()


def test_exercises_folder_is_up_to_date_with_solutions():
    problems = generate(SOLUTIONS, EXERCISES, check=True)
    assert problems == [], "run `fmcnn exercises generate`: " + ", ".join(f"{p}: {r}" for p, r in problems)


def test_generate_and_check_in_a_copy(tmp_path, capsys):
    solutions, exercises = tmp_path / "solutions", tmp_path / "exercises"
    shutil.copytree(SOLUTIONS, solutions)
    args = ["exercises", "generate", "--solutions", str(solutions), "--out", str(exercises)]
    assert main(args + ["--check"]) == 1
    assert main(args) == 0 and len(list(exercises.glob("*.ipynb"))) == len(list(solutions.glob("*.ipynb")))
    assert main(args + ["--check"]) == 0
    before = {p.name: p.read_text() for p in exercises.glob("*.ipynb")}
    assert before == {p.name: p.read_text() for p in EXERCISES.glob("*.ipynb")}
    edit_code(solutions / "03_linear_relu.ipynb", "Forward pass of a fully connected layer.", "Forward pass.")
    (exercises / "99_extra.ipynb").write_text("{}")
    capsys.readouterr()
    assert main(args + ["--check"]) == 1
    out = capsys.readouterr().out
    assert "03_linear_relu.ipynb: out of date" in out and "99_extra.ipynb: no solution notebook" in out
    assert main(args) == 0 and "Forward pass." in (exercises / "03_linear_relu.ipynb").read_text()
