"""book/earlier_chapters.py: chapter 13 runs the functions of chapters 4 to 7 from their notebooks."""
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

import fmcnn.nn as nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book"))
import earlier_chapters  # noqa: E402
from earlier_chapters import functions_from  # noqa: E402


def test_chapter_6_pooling_runs_and_agrees_with_the_package():
    loop, backward_loop, reshape, windows, backward = functions_from(
        "06_pooling", "maxpool_forward_loop", "maxpool_backward_loop", "maxpool_forward_reshape",
        "maxpool_forward", "maxpool_backward")
    rng = np.random.default_rng(0)
    x = np.maximum(rng.standard_normal((2, 3, 8, 8)), 0)      # ReLU output: many tied windows
    dout = rng.standard_normal((2, 3, 4, 4))
    pool = nn.MaxPool2D(2).to(np.float64)
    out = pool.forward(x)
    for version in (loop, reshape, windows):
        assert np.array_equal(version(x), out)
    dx = pool.backward(dout)
    assert np.array_equal(backward_loop(dout, x), dx)
    assert np.array_equal(backward(dout, x), dx)


def test_chapter_4_and_5_convolutions_agree_with_the_package():
    (naive,) = functions_from("04_conv_forward", "conv2d_naive")
    forward, backward = functions_from("05_conv_backward", "conv_forward", "conv_backward")
    rng = np.random.default_rng(1)
    layer = nn.Conv2D(3, 4, 3, padding=1, rng=rng).to(np.float64)
    x = rng.standard_normal((2, 3, 6, 6))
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    w, b = layer.weight.data, layer.bias.data
    assert np.allclose(naive(x, w, b, padding=1), out, rtol=1e-12, atol=1e-12)
    out5, cache = forward(x, w, b, 1, 1)                    # uses chapter 5's im2col
    dx5, dw5, db5 = backward(dout, cache)                   # uses chapter 5's col2im
    assert np.allclose(out5, out, rtol=1e-12, atol=1e-12)
    for mine, theirs in ((dx5, dx), (dw5, layer.weight.grad), (db5, layer.bias.grad)):
        assert np.allclose(mine, theirs, rtol=1e-12, atol=1e-12)


def test_only_imports_and_definitions_run(capsys):
    functions_from("06_pooling", "maxpool_forward_loop")   # the chapter's cells also print and plot
    assert capsys.readouterr().out == ""


def write_chapter(folder, name, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, folder / f"{name}.ipynb")


def test_unknown_chapter_and_missing_or_repeated_names_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(earlier_chapters, "BOOK", tmp_path)
    write_chapter(tmp_path, "99_demo",
                  "import numpy as np\n%matplotlib inline\n\ndef once(x):\n    return np.sum(x)\n\nprint('side effect')",
                  "def twice():\n    return 1",
                  "def twice():\n    return 2\n\nraise RuntimeError('a statement, not a definition')")
    (once,) = functions_from("99_demo", "once")
    assert once([1, 2]) == 3
    with pytest.raises(FileNotFoundError, match="no chapter '98_missing'"):
        functions_from("98_missing", "once")
    with pytest.raises(LookupError, match="'absent' is not defined in 99_demo.ipynb; it defines: once, twice"):
        functions_from("99_demo", "absent")
    with pytest.raises(LookupError, match="'twice' is defined 2 times"):
        functions_from("99_demo", "twice")
