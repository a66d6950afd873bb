"""The functions that earlier chapters wrote, taken from their notebooks.

Chapter 13 (13_making_it_fast.ipynb) times the loops and the first vectorized versions that chapters 4 to 7
wrote. Rather than copy them, it reads their definitions from those notebooks, so what it times
is exactly what the chapters teach, and a change to a chapter changes what chapter 13 measures.

    from earlier_chapters import functions_from
    conv2d_naive, = functions_from("04_conv_forward", "conv2d_naive")

Only a chapter's top-level imports and `def` statements run, none of its other code (no data is
loaded, nothing is printed). A function may call the chapter's other functions, as it did in the
chapter.
"""
import ast
from pathlib import Path

import nbformat

BOOK = Path(__file__).resolve().parent


def functions_from(chapter, *names):
    """The functions `names` as defined in the notebook book/<chapter>.ipynb.

    chapter: the notebook's name without `.ipynb`, e.g. "06_pooling".
    Returns a tuple of functions in the order of `names`.
    Raises FileNotFoundError if there is no such notebook, and LookupError if a name is not
    defined there, or defined more than once (then which definition is meant depends on the cell).
    """
    path = BOOK / f"{chapter}.ipynb"
    if not path.is_file():
        raise FileNotFoundError(f"no chapter {chapter!r}: {path} does not exist")
    kept, defined = [], []
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        # IPython magics (%timeit ...) are not Python: such lines cannot hold a definition.
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                           for line in cell.source.splitlines())
        for node in ast.parse(source).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                kept.append(node)
            elif isinstance(node, ast.FunctionDef):
                kept.append(node)
                defined.append(node.name)
    for name in names:
        if defined.count(name) != 1:
            found = "not defined" if name not in defined else f"defined {defined.count(name)} times"
            raise LookupError(f"{name!r} is {found} in {path.name}; it defines: {', '.join(sorted(set(defined)))}")
    namespace = {"__name__": f"chapter {chapter}"}
    exec(compile(ast.Module(body=kept, type_ignores=[]), str(path), "exec"), namespace)
    return tuple(namespace[name] for name in names)
