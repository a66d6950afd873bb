"""Build the student notebooks in ``exercises/`` from the reference notebooks in ``solutions/``.

In a solution notebook the reference code sits between nbgrader-style markers::

    def relu_forward(x):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION
        return np.maximum(x, 0)
        ### END SOLUTION

Generating replaces every marked block (markers included) with a stub at the
indentation of the ``### BEGIN SOLUTION`` line::

        # YOUR CODE HERE
        raise NotImplementedError

A debugging exercise instead gives the student code with a planted bug to
find. Its solution holds the fix and, commented out, the bug::

        ### BEGIN FIX
        dxp[:, :, rows, cols] += contribution
        ### PLANTED BUG
        # dxp[:, :, rows, cols] = contribution
        ### END FIX

and generating keeps only the bug, uncommented, with no marker left to point at it::

        dxp[:, :, rows, cols] = contribution

Everything else (prose, hints, docstrings, check cells) stays as it is.
The exercise notebooks are written in one well-defined state: no outputs, no
execution counts, no execution metadata, and only the kernelspec and language
name as notebook metadata, so regenerating is byte-for-byte reproducible and
``--check`` can tell whether ``exercises/`` is up to date.
"""
import copy
from pathlib import Path

import nbformat

from ..atomic import write_atomically
from ..errors import FmcnnError

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_FIX, PLANTED_BUG, END_FIX = "### BEGIN FIX", "### PLANTED BUG", "### END FIX"
STUB = ("# YOUR CODE HERE", "raise NotImplementedError")
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}
_CELL_METADATA_KEPT = ("tags",)

# For each marker: the block it may appear in (None: outside any block) and the block it opens.
_TRANSITIONS = {BEGIN: (None, "solution"), END: ("solution", None),
                BEGIN_FIX: (None, "fix"), PLANTED_BUG: ("fix", "bug"), END_FIX: ("bug", None)}
_OPENED_BY = {"solution": BEGIN, "fix": BEGIN_FIX, "bug": PLANTED_BUG}


class SolutionError(FmcnnError, ValueError):
    """A solution notebook that cannot be turned into an exercise (the message names the file)."""


class MarkerError(SolutionError):
    """A solution cell has unbalanced or nested markers, or a planted bug that is not commented out."""


def _uncomment(line, where):
    """A planted bug's line as the student sees it: its ``# `` removed, its indentation kept."""
    body = line.lstrip()
    if not body:
        return line
    if not body.startswith("#"):
        raise MarkerError(f"{where}: a planted bug is commented out in the solution (each of its lines "
                          f"starts with '# '), so that the solution runs the fix")
    rest = body[2 if body.startswith("# ") else 1:]
    return line[:len(line) - len(body)] + rest if rest else ""


def strip_solutions(source, where="cell"):
    """Return ``source`` with every solution block replaced by the stub and every fix by its planted bug."""
    out, block = [], None
    for number, line in enumerate(source.split("\n"), 1):
        marker = next((m for m in _TRANSITIONS if line.strip().startswith(m)), None)
        if marker:
            allowed, block_after = _TRANSITIONS[marker]
            if block != allowed:
                problem = f"inside the block opened by {_OPENED_BY[block]}" if allowed is None \
                    else f"without {_OPENED_BY[allowed]}"
                raise MarkerError(f"{where}, line {number}: {marker} {problem}")
            if marker == BEGIN:
                indent = line[:len(line) - len(line.lstrip())]
                out.extend(indent + s for s in STUB)
            block = block_after
        elif block is None:
            out.append(line)
        elif block == "bug":
            out.append(_uncomment(line, f"{where}, line {number}"))
    if block is not None:
        raise MarkerError(f"{where}: {_OPENED_BY[block]} without its end marker")
    return "\n".join(out)


def make_exercise(solution):
    """The exercise version of a solution notebook (an ``nbformat`` node); the input is not modified."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    for index, cell in enumerate(solution.cells):
        new = copy.deepcopy(cell)
        new.metadata = {k: v for k, v in cell.get("metadata", {}).items() if k in _CELL_METADATA_KEPT}
        if cell.cell_type == "code":
            new.source = strip_solutions(cell.source, f"cell {index}")
            new.outputs, new.execution_count = [], None
        nb.cells.append(new)
    return nb


def read_solution(solution_path):
    """The solution notebook at ``solution_path`` (an ``nbformat`` node), checked against the
    notebook schema; SolutionError if the file is not a readable notebook."""
    try:
        solution = nbformat.read(solution_path, as_version=4)
        nbformat.validate(solution)
    # nbformat's errors for what is not a notebook: not UTF-8 or not JSON (ValueError), JSON of
    # another shape (AttributeError, TypeError or KeyError while upgrading it), schema violations.
    except (ValueError, AttributeError, TypeError, KeyError, nbformat.ValidationError) as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise SolutionError(f"{solution_path} is not a readable notebook ({first}); "
                            "restore it from git or save it again from Jupyter.") from None
    return solution


def exercise_text(solution_path):
    """The exact file content of the exercise generated from ``solution_path``."""
    solution = read_solution(solution_path)
    try:
        return nbformat.writes(make_exercise(solution)) + "\n"
    except MarkerError as e:
        raise MarkerError(f"{solution_path}: {e}") from None


def generate(solutions_dir="solutions", out_dir="exercises", check=False):
    """Write (or with ``check=True`` only compare) ``out_dir/X.ipynb`` for every ``solutions_dir/X.ipynb``.

    Returns the problems found as ``(path, reason)`` pairs: exercise notebooks
    that are "missing" or "out of date" (differ from what would be generated),
    and ones with "no solution notebook". With ``check=False`` the missing and
    out-of-date ones are (re)written; files without a solution are reported,
    never deleted.
    """
    solutions_dir, out_dir = Path(solutions_dir), Path(out_dir)
    solutions = sorted(solutions_dir.glob("*.ipynb"))
    if not solutions:
        raise FileNotFoundError(f"no solution notebooks (*.ipynb) in {solutions_dir}")
    problems = []
    for path in solutions:
        target = out_dir / path.name
        text = exercise_text(path)
        current = target.read_text(encoding="utf-8") if target.exists() else None
        if current == text:
            continue
        problems.append((target, "missing" if current is None else "out of date"))
        if not check:
            out_dir.mkdir(parents=True, exist_ok=True)
            write_atomically(target, text)
    names = {p.name for p in solutions}
    problems += [(p, "no solution notebook") for p in sorted(out_dir.glob("*.ipynb")) if p.name not in names]
    return problems
