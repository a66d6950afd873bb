"""Execute notebooks in a fresh kernel and store their outputs in place, as nbval expects them.

    OPENBLAS_NUM_THREADS=1 python scripts/execute_notebooks.py book/08_lenet.ipynb solutions/05_conv_backward.ipynb

Each notebook runs from its own folder, as `jupyter-book build` and nbval run it, with
no per-cell timing metadata (so that re-executing a notebook changes only its outputs).
Run it with one BLAS thread, as the Makefile does, so the stored outputs are those that
`make test` reproduces.
"""
import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path):
    """Run the notebook at `path` top to bottom and write it back with its new outputs."""
    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    for name in sys.argv[1:]:
        print(f"executing {name}", flush=True)
        execute(name)
