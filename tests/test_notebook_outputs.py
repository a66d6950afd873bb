"""Which notebook outputs nbval compares, and why the others are not compared.

nbval compares every cell's output with the one stored in the notebook, except in cells
marked `# NBVAL_IGNORE_OUTPUT`. A float32 result printed to its last digits differs from one
processor to another, so such a cell must not be compared; and a cell that is not compared
tests nothing unless it asserts. The rules, checked here for book/ and solutions/:

- nbval markers are spelt exactly (nbval silently ignores `# NBVAL_IGNORE_OUTPUT (why)`);
- the line after `# NBVAL_IGNORE_OUTPUT` says why: `# Not compared by nbval (<reason>): ...`,
  the reason one of REASONS (or two joined by "and");
- a cell not compared because of rounding asserts what it shows, with a tolerance: in the
  cell itself or in the next code cell;
- no cell is skipped.

`make test` runs nbval twice, the second time with another machine's rounding
(`NPY_DISABLE_CPU_FEATURES=X86_V3`), which catches a compared output that depends on rounding.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted(ROOT.glob("book/*.ipynb")) + sorted(ROOT.glob("solutions/*.ipynb"))
MARKERS = {"NBVAL_IGNORE_OUTPUT", "NBVAL_CHECK_OUTPUT", "NBVAL_RAISES_EXCEPTION"}
REASONS = {
    "rounding": "float32 digits that vary between processors; the cell asserts with a tolerance",
    "timing": "the machine's speed",
    "machine": "a property of the machine (a path, the BLAS library)",
    "animation": "PNG frames whose pixels depend on fonts and libraries",
}
REASON_LINE = re.compile(r"# Not compared by nbval \((?P<reasons>[a-z ]+)\): \S")


def code_cells(path):
    cells = json.loads(path.read_text(encoding="utf8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def ignored(source):
    return source.splitlines()[:1] == ["# NBVAL_IGNORE_OUTPUT"]


def reasons(source):
    """The reasons named on an ignored cell's second line, or None if the line is missing."""
    lines = source.splitlines()
    match = REASON_LINE.match(lines[1]) if len(lines) > 1 else None
    return match and match["reasons"].split(" and ")


def rule_violations(cells):
    """Every broken rule in a notebook's code cells, as (code cell index, what is wrong)."""
    found = []
    for k, source in enumerate(cells):
        for line in source.splitlines():
            stripped = line.strip().lstrip("#").strip()
            if "NBVAL" in line and line.strip().startswith("#") and stripped not in MARKERS:
                found.append((k, f"not an nbval marker, so nbval ignores it: {line.strip()!r}"))
        if "NBVAL_IGNORE_OUTPUT" in source and not ignored(source):
            found.append((k, "# NBVAL_IGNORE_OUTPUT must be the cell's first line"))
        if not ignored(source):
            continue
        why = reasons(source)
        if not why or not set(why) <= set(REASONS):
            found.append((k, f"second line must be '# Not compared by nbval (<reason>): ...', "
                             f"reason one of {sorted(REASONS)}"))
        elif "rounding" in why:
            here_or_next = source + "\n" + (cells[k + 1] if k + 1 < len(cells) else "")
            if not re.search(r"^\s*assert ", here_or_next, re.M):
                found.append((k, "not compared because of rounding, yet neither it nor the next cell asserts"))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_uncompared_output_is_explained_and_checked(path):
    assert rule_violations(code_cells(path)) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_cell_is_skipped(path):
    cells = json.loads(path.read_text(encoding="utf8"))["cells"]
    for cell in cells:
        assert "NBVAL_SKIP" not in "".join(cell["source"])
        assert not {"nbval-skip", "skip-execution"} & set(cell.get("metadata", {}).get("tags", []))


def test_rules_catch_each_mistake():
    reason = "# Not compared by nbval (rounding): digits vary."
    assert rule_violations(["# NBVAL_IGNORE_OUTPUT  (a path)\nprint(1)"])        # misspelt marker
    assert rule_violations(["x = 1\n# NBVAL_IGNORE_OUTPUT\nprint(x)"])           # not first
    assert rule_violations(["# NBVAL_IGNORE_OUTPUT\nprint(1)"])                  # no reason
    assert rule_violations(["# NBVAL_IGNORE_OUTPUT\n# Not compared by nbval (luck): x\nprint(1)"])
    assert rule_violations([f"# NBVAL_IGNORE_OUTPUT\n{reason}\nprint(0.1)"])     # rounding, no assert
    assert not rule_violations([f"# NBVAL_IGNORE_OUTPUT\n{reason}\nprint(0.1)", "assert abs(a) < 1"])
    assert not rule_violations(["# NBVAL_IGNORE_OUTPUT\n# Not compared by nbval (rounding and timing): "
                                "x\nassert t > 0"])
    assert not rule_violations(["print(1)", "# NBVAL_IGNORE_OUTPUT\n# Not compared by nbval (timing): x"])


def test_the_test_command_runs_nbval_with_another_rounding():
    makefile = (ROOT / "Makefile").read_text(encoding="utf8")
    test_recipe = makefile.split("\ntest:", 1)[1].split("\n\n", 1)[0]
    assert "nbval-other-rounding" in test_recipe
    assert "NPY_DISABLE_CPU_FEATURES=X86_V3" in makefile
