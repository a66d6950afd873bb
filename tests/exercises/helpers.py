"""Helpers for the exercise tests: the repo's notebook folders and building submissions."""
import json
import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SOLUTIONS = REPO / "solutions"
EXERCISES = REPO / "exercises"


def edit_code(path, old, new, count=1):
    """Replace ``old`` by ``new`` in the code cells of the notebook at ``path`` (must occur ``count`` times)."""
    nb = json.loads(Path(path).read_text())
    found = 0
    for cell in nb["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code" and old in source:
            found += source.count(old)
            cell["source"] = source.replace(old, new)
    assert found == count, f"{old!r} found {found} times in {path}, expected {count}"
    Path(path).write_text(json.dumps(nb, indent=1))


def add_code_cell(path, source, index=1):
    """Insert a code cell with ``source`` at position ``index`` of the notebook at ``path``."""
    nb = json.loads(Path(path).read_text())
    nb["cells"].insert(index, {"cell_type": "code", "metadata": {}, "execution_count": None,
                               "outputs": [], "source": source})
    Path(path).write_text(json.dumps(nb, indent=1))


def copy_folder(src, dest):
    shutil.copytree(src, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    return Path(dest)
