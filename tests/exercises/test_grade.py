"""Grading a class of deliberately broken submissions: each loses exactly the points it should.

One class is graded once per module (``graded``) and shared by the tests. The
submissions are copies of ``solutions/`` (full marks) and ``exercises/`` (zero)
with small edits to the notebooks' source text.
"""
import csv
import filecmp
import json
import shutil
from pathlib import Path

import pytest

from .helpers import EXERCISES, SOLUTIONS, add_code_cell, copy_folder, edit_code
from fmcnn.exercises import EXERCISES as REGISTRY
from fmcnn.exercises import NOTEBOOKS, TOTAL_POINTS
from fmcnn.exercises.grade import (GradeError, NotebookError, grade_class, grade_notebook, hidden_answers,
                                   read_code_cells)

TIMEOUT = 10                                     # seconds per step; the endless loop costs this much
FULL = {name: ex.points for name, ex in REGISTRY.items()}

TAMPER = '''
import numpy as np, pathlib, fmcnn

class Passed:
    passed, score = True, 100

fmcnn.check = lambda *args, **kwargs: Passed()         # redefine the checker
np.allclose = lambda *args, **kwargs: True             # patch NumPy's comparisons
np.array_equal = lambda *args, **kwargs: True
np.testing.assert_allclose = lambda *args, **kwargs: None
out = pathlib.Path({out!r})                            # the out dir, "guessed" perfectly
(out / "feedback").mkdir(parents=True, exist_ok=True)
(out / "grades.csv").write_text("student,exercise,score,max_score\\ntamper,parse_idx,1000,2\\n")
(out / "totals.csv").write_text("student,score,max_score\\ntamper,1000,50\\n")
(out / "feedback" / "tamper.md").write_text("perfect")
(out / "feedback" / "zz_fake.md").write_text("fake")
'''


def lost(*notebooks):
    """{exercise: 0} for every exercise of ``notebooks``."""
    return {name: 0 for notebook in notebooks for name in NOTEBOOKS[notebook]}


def build_class(root, out):
    """Write the submissions folder; return {student: {exercise: expected score}}."""
    subs = Path(root)
    expected = {}

    def student(name, source, **changes):
        copy_folder(source, subs / name)
        expected[name] = {**(FULL if source == SOLUTIONS else {n: 0 for n in FULL}), **changes}
        return subs / name

    student("complete", SOLUTIONS)
    student("blank", EXERCISES)

    # Output height counts the padding once instead of twice: wrong shape in the 3 padded cases of 6.
    s = student("padding_bug", SOLUTIONS, conv_forward_naive=2)
    edit_code(s / "04_conv_forward.ipynb", "Ho = (H + 2 * padding - k)", "Ho = (H + padding - k)")

    # db missing: dx and dw right, db wrong in every case -> 2/3 of the points.
    s = student("no_bias_grad", SOLUTIONS, conv_backward=4)
    edit_code(s / "05_conv_backward.ipynb", "db = dout.sum(axis=(0, 2, 3))", "db = np.zeros_like(b)")

    # Unbiased variance in the normalization: out and running_var wrong in the 3 training cases
    # (running_mean right), the 3 evaluation cases right -> 3 * (3 * 1/3 + 3) / 6 = 2.
    s = student("bn_variance", SOLUTIONS, batchnorm_forward=2)
    edit_code(s / "07_batchnorm.ipynb", "var = x.var(axis=(0, 2, 3))\n", "var = x.var(axis=(0, 2, 3), ddof=1)\n")

    # The gradient of each window goes to all its k*k inputs: wrong in every case.
    s = student("pool_all", SOLUTIONS, maxpool_backward=0)
    edit_code(s / "06_pooling.ipynb",
              "dx[n, c, i * stride + a, j * stride + d] += dout[:, :, i, j]",
              "dx[:, :, i * stride:i * stride + k, j * stride:j * stride + k] += dout[:, :, i, j][:, :, None, None]")

    # adam_step never returns: stopped after TIMEOUT s; sgd_momentum_step (same notebook) still counts.
    s = student("endless_loop", SOLUTIONS, adam_step=0)
    edit_code(s / "09_optimizers.ipynb", "new_m = beta1 * m", "while True:\n        pass\n    new_m = beta1 * m")

    # A syntax error in relu_forward's cell: that function is missing; the rest of the notebook runs.
    s = student("syntax_error", SOLUTIONS, relu_forward=0)
    edit_code(s / "03_linear_relu.ipynb", "return np.maximum(x, 0)", "return np.maximum(x, 0")

    # Stubs only, plus a cell that tampers with everything it can reach.
    s = student("tamper", EXERCISES)
    add_code_cell(s / "01_data.ipynb", TAMPER.format(out=str(out)))

    # Invalid JSON, a missing notebook (every exercise of both scores 0), a renamed function.
    s = student("broken", SOLUTIONS, **lost("01_data", "02_softmax"), accuracy=0)
    (s / "01_data.ipynb").write_text((s / "01_data.ipynb").read_text()[:500])
    (s / "02_softmax.ipynb").unlink()
    edit_code(s / "10_metrics.ipynb", "def accuracy(", "def my_accuracy(")

    # The process dies in the pooling notebook; a cell that runs out of memory is only a note.
    s = student("crash", SOLUTIONS, **lost("06_pooling"))
    add_code_cell(s / "06_pooling.ipynb", "import os\nos._exit(3)", index=2)
    add_code_cell(s / "10_metrics.ipynb", "import numpy as np\nhuge = np.ones(2 ** 29)  # 4 GiB > --memory-mb 2048", index=2)
    return expected


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    out = root / "out"
    expected = build_class(root / "subs", out)
    results = grade_class(root / "subs", out, jobs=2, timeout=TIMEOUT, progress=False)
    return root / "subs", out, expected, results


def scores(out):
    return {(r["student"], r["exercise"]): float(r["score"]) for r in read_rows(out / "grades.csv")}


def feedback(out, student):
    return (out / "feedback" / f"{student}.md").read_text()


def test_every_submission_loses_exactly_the_points_it_should(graded):
    _, out, expected, _ = graded
    got = scores(out)
    assert {s for s, _ in got} == set(expected)
    for student, per_exercise in expected.items():
        assert {e: got[(student, e)] for e in FULL} == per_exercise, student


def test_grades_csv_layout_and_totals(graded):
    _, out, expected, _ = graded
    rows = read_rows(out / "grades.csv")
    assert list(rows[0]) == ["student", "exercise", "score", "max_score"]
    assert len(rows) == len(expected) * len(FULL)
    assert [(r["student"], r["exercise"]) for r in rows] == [(s, e) for s in sorted(expected) for e in FULL]
    assert all(int(r["max_score"]) == FULL[r["exercise"]] for r in rows)
    totals = {r["student"]: (float(r["score"]), float(r["max_score"])) for r in read_rows(out / "totals.csv")}
    assert totals == {s: (sum(e.values()), float(TOTAL_POINTS)) for s, e in expected.items()}
    assert totals["complete"] == (TOTAL_POINTS, TOTAL_POINTS) and totals["blank"] == (0, TOTAL_POINTS)


def test_blank_submission_says_not_implemented(graded):
    text = feedback(graded[1], "blank")
    # Every exercise is a stub but the debugging notebook's functions, which run with planted bugs.
    verdicts = {line.split("**")[1]: line for line in text.splitlines() if line.startswith("- **")}
    assert set(verdicts) == set(FULL)
    running = {name for name, line in verdicts.items() if "not implemented yet" not in line}
    assert running and running <= set(NOTEBOOKS["debugging"])
    assert f"Total: 0 / {TOTAL_POINTS} points." in text


def test_complete_submission_feedback_has_no_notes(graded):
    text = feedback(graded[1], "complete")
    assert f"Total: {TOTAL_POINTS} / {TOTAL_POINTS} points." in text
    assert "Notes:" not in text and "- case " not in text


def test_feedback_explains_each_failure(graded):
    out = graded[1]
    assert "wrong shape" in feedback(out, "padding_bug")
    assert "db: largest error" in feedback(out, "no_bias_grad")
    text = feedback(out, "endless_loop")
    assert f"took longer than {TIMEOUT} s" in text and "**sgd_momentum_step**: 2 / 2" in text
    text = feedback(out, "syntax_error")
    assert "syntax error at line" in text and "function `relu_forward` not found" in text
    text = feedback(out, "broken")
    assert "01_data.ipynb is not valid JSON" in text
    assert "02_softmax.ipynb is missing" in text
    assert "function `accuracy` not found" in text
    text = feedback(out, "crash")
    assert "exited with code 3" in text
    assert "raised MemoryError" in text and "**confusion_matrix**: 2 / 2" in text


def test_tampering_gains_nothing(graded):
    _, out, _, _ = graded
    assert all(v == 0 for (s, _), v in scores(out).items() if s == "tamper")
    assert "1000" not in (out / "grades.csv").read_text() + (out / "totals.csv").read_text()
    assert feedback(out, "tamper").startswith("# Feedback for tamper")
    assert not (out / "feedback" / "zz_fake.md").exists()
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "grades.csv", "totals.csv"]


def test_regrading_one_student_leaves_the_others_unchanged(graded, tmp_path):
    subs, out, expected, _ = graded
    subs2, out2 = copy_folder(subs, tmp_path / "subs"), copy_folder(out, tmp_path / "out")
    # Regrading an unchanged submission rewrites identical files.
    grade_class(subs2, out2, student="padding_bug", timeout=TIMEOUT, progress=False)
    for name in ["grades.csv", "totals.csv", "feedback/padding_bug.md"]:
        assert filecmp.cmp(out / name, out2 / name, shallow=False), name
    # The student fixes the bug: only their rows and feedback change.
    shutil.copy(SOLUTIONS / "04_conv_forward.ipynb", subs2 / "padding_bug")
    grade_class(subs2, out2, student="padding_bug", timeout=TIMEOUT, progress=False)
    before, after = read_rows(out / "grades.csv"), read_rows(out2 / "grades.csv")
    assert [r for r in before if r["student"] != "padding_bug"] == [r for r in after if r["student"] != "padding_bug"]
    assert {r["exercise"]: float(r["score"]) for r in after if r["student"] == "padding_bug"} == FULL
    for student in expected:
        if student != "padding_bug":
            assert filecmp.cmp(out / "feedback" / f"{student}.md", out2 / "feedback" / f"{student}.md", shallow=False)
    totals = {r["student"]: r["score"] for r in read_rows(out2 / "totals.csv")}
    assert totals["padding_bug"] == str(TOTAL_POINTS) and totals["no_bias_grad"] == str(TOTAL_POINTS - 2)


def test_grading_the_same_folder_twice_gives_identical_files(tmp_path):
    subs = tmp_path / "subs"
    for name in ["complete", "blank"]:
        copy_folder(SOLUTIONS if name == "complete" else EXERCISES, subs / name)
    broken = copy_folder(SOLUTIONS, subs / "broken")
    edit_code(broken / "05_conv_backward.ipynb", "dw = np.einsum(", "dw = -np.einsum(")
    add_code_cell(broken / "04_conv_forward.ipynb", "print(object())\nraise ValueError(object())")
    outs = [tmp_path / "out1", tmp_path / "out2"]
    for out in outs:
        grade_class(subs, out, jobs=2, timeout=TIMEOUT, progress=False)
    files = sorted(str(p.relative_to(outs[0])) for p in outs[0].rglob("*") if p.is_file())
    assert files == sorted(str(p.relative_to(outs[1])) for p in outs[1].rglob("*") if p.is_file())
    assert len(files) == 5
    match, mismatch, errors = filecmp.cmpfiles(outs[0], outs[1], files, shallow=False)
    assert mismatch == [] and errors == []
    assert "raised ValueError: ‹object object at 0x...›" in (outs[0] / "feedback" / "broken.md").read_text()


def test_code_that_swallows_the_step_timeout_is_killed(tmp_path):
    """An endless loop that first switches off the per-step alarm is killed after 3 * timeout + 5 s."""
    path = copy_folder(SOLUTIONS, tmp_path / "s") / "10_metrics.ipynb"
    edit_code(path, "counts = np.zeros(", "import signal\n    signal.signal(signal.SIGALRM, signal.SIG_IGN)\n"
                                          "    while True:\n        pass\n    counts = np.zeros(")
    result = grade_notebook(path, "10_metrics", hidden_answers(NOTEBOOKS["10_metrics"]), timeout=1)
    by_name = {e.exercise: e for e in result.exercises}
    assert by_name["accuracy"].score == 1 and by_name["confusion_matrix"].score == 0
    assert any("stopped after 8 s during exercise confusion_matrix" in n or "SIGXCPU" in n
               for n in result.notes), result.notes
    assert "not graded" in by_name["confusion_matrix"].summary


def test_read_code_cells_rejects_what_is_not_a_notebook(tmp_path):
    (tmp_path / "a.ipynb").write_text("[1, 2]")
    (tmp_path / "b.ipynb").write_bytes(b"\xff\xfe")
    for name, message in [("a.ipynb", "not a notebook"), ("b.ipynb", "not a text"), ("c.ipynb", "missing")]:
        with pytest.raises(NotebookError, match=message):
            read_code_cells(tmp_path / name)
    cells = read_code_cells(SOLUTIONS / "04_conv_forward.ipynb")
    assert cells[0][0] == "import numpy as np" and any(src.startswith("def conv_forward(") for _, src in cells)


def test_child_files_are_read_safely(tmp_path):
    """A symlink to /dev/zero, a FIFO or a huge file where results are expected reads as "no result"."""
    import os

    from fmcnn.exercises.grade import _read_arrays, _read_json

    (tmp_path / "zero.json").symlink_to("/dev/zero")
    os.mkfifo(tmp_path / "fifo.json")
    (tmp_path / "big.json").write_text('{"a": "' + "x" * 2**20 + '"}')
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "ok.json").write_text('{"status": "ran"}')
    for name in ["zero.json", "fifo.json", "big.json", "list.json", "missing.json"]:
        assert _read_json(tmp_path / name) is None
    assert _read_json(tmp_path / "ok.json") == {"status": "ran"}
    import numpy as np

    np.savez(tmp_path / "ok.npz", c0_0=np.arange(3))
    np.savez(tmp_path / "obj.npz", c0_0=np.array([{"a": 1}], dtype=object))
    assert list(_read_arrays(tmp_path / "ok.npz")) == ["c0_0"]
    assert _read_arrays(tmp_path / "obj.npz") == {} and _read_arrays(tmp_path / "fifo.json") == {}


def test_a_folder_without_student_folders_is_an_error_and_writes_nothing(tmp_path):
    subs = tmp_path / "subs"
    (subs / ".ipynb_checkpoints").mkdir(parents=True)       # hidden folders and loose files are not students
    (subs / "01_data.ipynb").write_text("{}")
    with pytest.raises(GradeError, match=f"{subs} holds no student folders: put each student's notebooks in a folder"):
        grade_class(subs, tmp_path / "out", progress=False)
    assert not (tmp_path / "out").exists()
