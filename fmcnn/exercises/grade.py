"""Grade a whole class: ``fmcnn grade SUBMISSIONS_DIR --out OUT_DIR``.

Input: ``SUBMISSIONS_DIR`` holds one folder per student (the folder name is the
student's name) with that student's exercise notebooks, named as in
``exercises/`` (``01_data.ipynb``, ..., ``10_metrics.ipynb``).

Output, all written by this (the parent) process after every notebook is graded:

- ``OUT_DIR/grades.csv``: columns ``student,exercise,score,max_score``, one row per
  student and exercise function, sorted by student then in course order;
- ``OUT_DIR/totals.csv``: columns ``student,score,max_score``, one row per student;
- ``OUT_DIR/feedback/<student>.md``: each exercise's score, the verdict of every
  hidden case that failed, and notes (missing notebook, syntax error, timeout...).

Scores come from the hidden cases (:mod:`.registry`: same kinds of case as the
notebook's check cell, other seeds). Each case is worth an equal share of the
exercise's points; a case whose function returns several arrays (dx, dw, db)
earns a part of its share for each correct array. Scores are rounded to 0.01.
The files contain no timestamps or temporary paths: grading the same folder
twice gives identical files. ``--student NAME`` regrades one student: the
other students' rows in grades.csv are kept as they are, the file is rewritten
atomically and totals.csv is recomputed.

How a notebook is run, and what that isolation does and does not do
--------------------------------------------------------------------
Every notebook is run in a separate, fresh Python process
(:mod:`.runner`) started with ``python -I`` (no user site-packages, no
PYTHON* variables, current directory not on the import path), in a new empty
temporary directory as both working directory and HOME, with a minimal
environment that does not mention OUT_DIR or SUBMISSIONS_DIR, and in its own
session so the whole process group can be killed. That process runs in a
bubblewrap sandbox (:mod:`.sandbox`): it sees the system, Python and fmcnn
read-only, can write only in its temporary directory, has no network, and
every process it starts dies with it. ``grade_class`` refuses to grade if the
sandbox cannot start, unless it is called with ``sandbox=False``
(``--no-sandbox``). The process limits itself,
before running any student code, to ``--memory-mb`` of address space, to
3 x ``--timeout`` CPU seconds, to 256 MB per file written and to no core dumps.
Each step (one code cell, or one exercise function on all its hidden cases)
is interrupted after ``--timeout`` seconds; the parent kills the process group
after 3 x ``--timeout`` + 5 seconds of wall-clock time in any case.

The student's process receives only the hidden *inputs* and returns only the
function's *outputs*, as plain arrays (loaded here with ``allow_pickle=False``
and a size cap) and short status texts. The reference answers are computed in
this parent process, before any student process starts, and the comparison
happens here; this process never imports or executes student code. Hence:

- redefining ``fmcnn.check``, patching NumPy (``np.allclose = lambda *a: True``)
  or any other change to the student's own process cannot change a score: it
  only changes the arrays that process hands back, which are judged here;
- a file the student writes into OUT_DIR (found by guessing its path) is
  overwritten or ignored: grades.csv, totals.csv and the feedback files are
  written from this process's results only after all notebooks ran (with
  ``--student``, the other rows are read *before* any student code runs);
- an endless loop, a crash, running out of memory, a syntax error, a deleted
  or renamed function, invalid JSON or a missing notebook cost the points of
  what could not be graded, with a note, and the rest of the class is graded.

Without the sandbox (``--no-sandbox``), the student's code runs as the user
who runs ``fmcnn grade``: it can read any file that user can read (including
the other students' submissions, and the solutions if they are on the
machine), write anywhere that user can write (including earlier grades.csv
files and the installed fmcnn package), use the network if there is one, and
start processes that leave the process group. With or without it, student code
can compute correct outputs by calling a correct implementation (``fmcnn.nn``,
or copied code): that is plagiarism, which no grader detects by running code.
"""
import csv
import io
import json
import os
import pickle
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..atomic import write_atomically
from ..errors import FmcnnError
from .checker import format_points, points_earned
from .compare import judge_arrays
from .registry import EXERCISES, NOTEBOOKS
from .sandbox import Sandbox

COLUMNS = ["student", "exercise", "score", "max_score"]
TOTAL_COLUMNS = ["student", "score", "max_score"]
MAX_NOTEBOOK_BYTES = 20 * 2**20
MAX_OUTPUT_BYTES = 256 * 2**20
_CHILD = "from fmcnn.exercises.runner import main; main()"


class NotebookError(Exception):
    """A notebook that cannot be run at all: missing, not JSON, not a notebook."""


class GradeError(FmcnnError, ValueError):
    """A class that cannot be graded as asked: no student folders, a damaged grades.csv."""


@dataclass
class ExerciseGrade:
    """The grade of one exercise function for one student."""

    exercise: str
    score: float
    max_score: int
    summary: str                                     # e.g. "3 of 6 hidden cases passed"
    details: list = field(default_factory=list)      # one line per failed case, or notes


@dataclass
class NotebookGrade:
    """The grades of the exercises of one notebook, plus notes about running it."""

    student: str
    notebook: str
    exercises: list
    notes: list = field(default_factory=list)


# --- hidden cases and their answers, computed once in this process ---------------------------

def hidden_answers(names=None):
    """{exercise name: (cases, expected outputs)} for the hidden cases of ``names`` (default: all)."""
    answers = {}
    for name in names or EXERCISES:
        exercise = EXERCISES[name]
        cases = exercise.cases(hidden=True)
        answers[name] = (cases, [exercise.expected(c) for c in cases])
    return answers


# --- reading a submission --------------------------------------------------------------------

def read_code_cells(path):
    """The code cells of a notebook file as ``[(label, source)]``; label is the first non-blank line.

    Raises :class:`NotebookError` with a message for the student if the file is
    missing, too large, not UTF-8, not JSON or not shaped like a notebook.
    """
    path = Path(path)
    if not path.is_file():
        raise NotebookError(f"{path.name} is missing from the submission")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise NotebookError(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise NotebookError(f"{path.name} is not a text (UTF-8) file") from None
    except json.JSONDecodeError as e:
        raise NotebookError(f"{path.name} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
                            "was it edited outside Jupyter?") from None
    except RecursionError:
        raise NotebookError(f"{path.name} is not valid JSON (nested too deeply)") from None
    cells = data.get("cells") if isinstance(data, dict) else None
    if not isinstance(cells, list):
        raise NotebookError(f"{path.name} is JSON but not a notebook (no list of cells)")
    code = []
    for cell in cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise NotebookError(f"{path.name} has a code cell whose source is not text")
        first = next((line.strip() for line in source.splitlines() if line.strip()), "empty cell")
        code.append((first if len(first) <= 60 else first[:57] + "...", source))
    return code


# --- running a notebook in a child process ---------------------------------------------------

def _child_env(workdir):
    return {"PATH": "/usr/bin:/bin", "HOME": workdir, "TMPDIR": workdir, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": os.path.join(workdir, ".matplotlib"),
            "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _read_child_file(path, limit):
    """The bytes of a file the child wrote, or None if it is not a regular file of at most ``limit`` bytes.

    The child could leave a symlink to /dev/zero or a FIFO where we expect its
    results, so the file is opened without following symlinks and without
    blocking, and checked before reading.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(limit + 1)
        return data if len(data) <= limit else None
    finally:
        os.close(fd)


def _read_json(path, limit=2**20):
    data = _read_child_file(path, limit)
    try:
        value = json.loads(data.decode("utf-8")) if data is not None else None
    except (ValueError, RecursionError):
        return None
    return value if isinstance(value, dict) else None


def _read_arrays(path):
    """Arrays from a child's npz: plain arrays only (no pickles), at most MAX_OUTPUT_BYTES in all."""
    data = _read_child_file(path, MAX_OUTPUT_BYTES)
    if data is None:
        return {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            if sum(i.file_size for i in z.infolist()) > MAX_OUTPUT_BYTES:
                return {}
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            return {key: npz[key] for key in npz.files}
    except Exception:                                          # noqa: BLE001 - any malformed file
        return {}


def run_notebook(cells, jobs, timeout, memory_mb, sandbox=None):
    """Run ``cells`` in a fresh child process and call the functions on the hidden inputs.

    ``jobs`` is ``[(exercise name, output names, [args, ...])]``; ``sandbox`` is a
    checked :class:`.sandbox.Sandbox` to run the process in, or None to run it
    without one. Returns ``(progress dict or None, [per-exercise (json dict or
    None, arrays)], end note or None, workdir)``.
    """
    workdir = tempfile.mkdtemp(prefix="fmcnn-grade-")
    logdir = tempfile.mkdtemp(prefix="fmcnn-grade-log-")
    try:
        with open(os.path.join(workdir, "job.pkl"), "wb") as f:
            pickle.dump({"cells": cells, "exercises": jobs, "step_timeout": timeout,
                         "cpu_seconds": 3 * timeout + 5, "memory_mb": memory_mb}, f)
        hard_limit = 3 * timeout + 5
        command = [sys.executable, "-I", "-c", _CHILD, workdir]
        if sandbox is not None:
            command = sandbox.wrap(workdir, command)
        with open(os.path.join(logdir, "stderr"), "wb") as err:
            proc = subprocess.Popen(command, cwd=workdir,
                                    env=_child_env(workdir), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
            try:
                proc.wait(timeout=hard_limit)
                timed_out = False
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                try:
                    # Also any process it started; in the sandbox this kills bwrap, whose death kills them all.
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                proc.wait()
        work = Path(workdir)
        progress = _read_json(work / "progress.json")
        results = []
        for i in range(len(jobs)):
            results.append((_read_json(work / f"ex{i}.json"), _read_arrays(work / f"ex{i}.npz")))
        where = f" during {progress['step']}" if progress and isinstance(progress.get("step"), str) else ""
        end = None
        if timed_out:
            end = f"the notebook's process was stopped after {hard_limit:g} s{where}"
        elif progress is None:
            tail = Path(logdir, "stderr").read_bytes()[-2000:].decode("utf-8", "replace").strip().splitlines()
            end = f"the grading process could not start (exit code {proc.returncode})" + \
                  (f": {tail[-1]}" if tail else "")
        elif progress.get("step") != "finished":
            code = proc.returncode if sandbox is None else Sandbox.exit_status(proc.returncode)
            how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
            signame = {signal.SIGKILL: " (SIGKILL: out of memory or CPU time?)",
                       signal.SIGXCPU: " (SIGXCPU: CPU time limit)", signal.SIGXFSZ: " (SIGXFSZ: file too large)",
                       signal.SIGSEGV: " (SIGSEGV: crash)"}.get(-code, "") if code < 0 else ""
            end = f"the notebook's process {how}{signame}{where}"
        return progress, results, end, workdir
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.rmtree(logdir, ignore_errors=True)


_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")


def _clean(text, workdir, limit=300):
    """Make a text from the child safe and stable for Markdown: no temp paths, addresses, newlines."""
    text = str(text).replace(workdir, "WORKDIR")
    text = _ADDRESS.sub("0x...", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text).replace("<", "‹").replace(">", "›")
    return text if len(text) <= limit else text[:limit - 3] + "..."


def grade_exercise(name, record, arrays, answers, workdir, end):
    """Turn one exercise's child results into an :class:`ExerciseGrade` (comparing here, in the parent)."""
    exercise = EXERCISES[name]
    cases, expected = answers[name]
    zero = lambda summary, details=(): ExerciseGrade(name, 0.0, exercise.points, summary, list(details))  # noqa: E731
    if record is None:
        return zero("not graded: " + (end or "no result was recorded"))
    status = record.get("status")
    if status == "missing":
        return zero(f"function `{name}` not found: was its cell deleted or renamed, or did that cell fail?")
    records = record.get("cases")
    if status != "ran" or not isinstance(records, list):
        return zero("not graded: " + _clean(record.get("message", "no result was recorded"), workdir))
    if records and all(isinstance(r, dict) and r.get("status") == "not_implemented" for r in records) \
            and len(records) == len(cases):
        return zero("not implemented yet (raises NotImplementedError)")
    credits, details = [], []
    n_out = len(exercise.output_names)
    for i, case in enumerate(cases):
        r = records[i] if i < len(records) and isinstance(records[i], dict) else {}
        if r.get("status") == "ok":
            got = [arrays.get(f"c{i}_{j}") for j in range(n_out)]
            if any(g is None for g in got):
                credit, message = 0.0, "no output was recorded"
            else:
                try:
                    credit, message = judge_arrays(got, expected[i], exercise.output_names, case.precision,
                                                   exercise.output_rules)
                except Exception as e:                          # noqa: BLE001 - malformed arrays
                    credit, message = 0.0, f"the outputs could not be compared ({type(e).__name__})"
        elif r.get("status") == "not_implemented":
            credit, message = 0.0, "raised NotImplementedError"
        else:
            credit, message = 0.0, _clean(r.get("message") or end or "no result was recorded", workdir)
        credits.append(credit)
        if credit < 1:
            details.append(f"case {i + 1} ({case.label}): {message}")
    passed = sum(c == 1 for c in credits)
    summary = (f"all {len(cases)} hidden cases passed" if passed == len(cases)
               else f"{passed} of {len(cases)} hidden cases passed")
    return ExerciseGrade(name, points_earned(exercise.points, credits), exercise.points, summary, details)


def grade_notebook(path, notebook, answers, timeout=30, memory_mb=2048, student="", sandbox=None):
    """Grade one student notebook (``path``) for the exercises of ``notebook`` (e.g. "04_conv_forward").

    ``sandbox``: a checked :class:`.sandbox.Sandbox` to run it in, or None to run it without one.
    """
    names = NOTEBOOKS[notebook]
    try:
        cells = read_code_cells(path)
    except NotebookError as e:
        return NotebookGrade(student, notebook, [
            ExerciseGrade(n, 0.0, EXERCISES[n].points, "not graded: " + str(e)) for n in names], [str(e)])
    jobs = [(n, EXERCISES[n].output_names, [c.args for c in answers[n][0]]) for n in names]
    progress, results, end, workdir = run_notebook(cells, jobs, timeout, memory_mb, sandbox)
    notes = [_clean(n, workdir) for n in (progress or {}).get("cells", []) if isinstance(n, str)][:20]
    if end:
        notes.append(_clean(end, workdir))
    grades = [grade_exercise(n, rec, arrays, answers, workdir, end) for n, (rec, arrays) in zip(names, results)]
    return NotebookGrade(student, notebook, grades, notes)


# --- the class -------------------------------------------------------------------------------

def _grade_safely(path, notebook, answers, timeout, memory_mb, student, sandbox):
    """:func:`grade_notebook`, but an unexpected error costs only this notebook, with a note."""
    try:
        return grade_notebook(path, notebook, answers, timeout, memory_mb, student, sandbox)
    except Exception as e:                                       # noqa: BLE001 - keep grading the class
        note = f"internal error while grading this notebook ({type(e).__name__}); please report it"
        return NotebookGrade(student, notebook, [ExerciseGrade(n, 0.0, EXERCISES[n].points, "not graded: " + note)
                                                 for n in NOTEBOOKS[notebook]], [note])


def find_students(submissions, out=None):
    """Sorted names of the student folders in ``submissions`` (hidden folders and ``out`` skipped)."""
    submissions = Path(submissions)
    if not submissions.is_dir():
        raise FileNotFoundError(f"submissions folder {submissions} does not exist")
    skip = Path(out).resolve() if out else None
    return sorted(p.name for p in submissions.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and p.resolve() != skip)


def _atomic_write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text)


def _csv_text(columns, rows):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buf.getvalue()


def read_grades(path):
    """Rows of an existing grades.csv as lists of strings (empty list if there is no file)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    if not rows or rows[0] != COLUMNS:
        raise GradeError(f"{path} does not start with the header {','.join(COLUMNS)}; "
                         "restore it, or grade the whole class into another --out folder.")
    return rows[1:]


def _sort_key(row):
    order = list(EXERCISES)
    return (row[0], order.index(row[1]) if row[1] in order else len(order), row[1])


def feedback_markdown(student, notebooks):
    """The feedback file of one student, from their :class:`NotebookGrade` list."""
    total = sum(e.score for nb in notebooks for e in nb.exercises)
    max_total = sum(e.max_score for nb in notebooks for e in nb.exercises)
    lines = [f"# Feedback for {student}", "",
             f"Total: {format_points(total)} / {max_total} points.", "",
             "Each exercise was run on hidden test cases, of the same kinds as the ones `fmcnn.check` shows "
             "but with other sizes and values. Every case earns an equal share of the exercise's points; a case "
             "whose function returns several arrays earns part of its share for each correct array.", ""]
    for nb in notebooks:
        lines += [f"## {nb.notebook}.ipynb", ""]
        if nb.notes:
            lines += ["Notes:", ""] + [f"- {n}" for n in nb.notes] + [""]
        for e in nb.exercises:
            end = "" if e.summary.endswith((".", "?", "!")) else "."
            lines.append(f"- **{e.exercise}**: {format_points(e.score)} / {e.max_score} points: {e.summary}{end}")
            lines += [f"    - {d}" for d in e.details]
        lines.append("")
    return "\n".join(lines).rstrip("\n") + "\n"


def grade_class(submissions, out, student=None, jobs=2, timeout=30, memory_mb=2048, progress=True, sandbox=True):
    """Grade every student folder in ``submissions`` (or only ``student``) and write the results to ``out``.

    Returns ``{student: [NotebookGrade, ...]}`` for the students graded now.
    See the module docstring for the files written and the isolation. With
    ``sandbox`` (the default) every notebook runs in bubblewrap, and a
    :class:`.sandbox.SandboxError` saying how to install it is raised, before
    anything is run or written, if it cannot start here; ``sandbox=False`` runs
    student code without it, as the user who calls this.
    """
    from tqdm import tqdm

    submissions, out = Path(submissions), Path(out)
    if student is not None:
        if not (submissions / student).is_dir():
            raise FileNotFoundError(f"no folder {submissions / student} for student {student!r}")
        students = [student]
        kept = [row for row in read_grades(out / "grades.csv") if row[0] != student]  # read before any student code
    else:
        students, kept = find_students(submissions, out), []
        if not students:   # grading nobody would write empty files (and delete every feedback file in out)
            raise GradeError(f"{submissions} holds no student folders: put each student's notebooks in a folder "
                             f"named after the student, e.g. {submissions / 'alice' / '01_data.ipynb'}, "
                             "and grade again.")
    box = None
    if sandbox:
        box = Sandbox.find()
        box.check(_child_env, private=[submissions, out])
    answers = hidden_answers()
    tasks = [(s, nb) for s in students for nb in NOTEBOOKS]
    results = {}
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(_grade_safely, submissions / s / f"{nb}.ipynb", nb, answers, timeout, memory_mb, s,
                               box): (s, nb) for s, nb in tasks}
        for future in tqdm(as_completed(futures), total=len(futures), desc="grading", unit="notebook",
                           disable=not progress):
            results[futures[future]] = future.result()
    graded = {s: [results[(s, nb)] for nb in NOTEBOOKS] for s in students}

    rows = kept + [[s, e.exercise, format_points(e.score), str(e.max_score)]
                   for s, nbs in graded.items() for nb in nbs for e in nb.exercises]
    rows.sort(key=_sort_key)
    totals = {}
    for s, _, score, max_score in rows:
        t = totals.setdefault(s, [0.0, 0.0])
        t[0] += float(score)
        t[1] += float(max_score)
    _atomic_write(out / "grades.csv", _csv_text(COLUMNS, rows))
    _atomic_write(out / "totals.csv", _csv_text(
        TOTAL_COLUMNS, [[s, format_points(t[0]), format_points(t[1])] for s, t in sorted(totals.items())]))
    feedback = out / "feedback"
    for s, nbs in graded.items():
        _atomic_write(feedback / f"{s}.md", feedback_markdown(s, nbs))
    if student is None:                                          # the folder now describes exactly this class
        for stale in feedback.glob("*"):
            if stale.is_file() and stale.stem not in graded:
                stale.unlink()
    return graded
