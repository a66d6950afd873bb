"""The child side of grading: runs one student notebook's code, in its own process.

:mod:`fmcnn.exercises.grade` starts this as::

    python -I -c "from fmcnn.exercises.runner import main; main()" WORKDIR

with WORKDIR (a fresh temporary directory) as the current directory and a
minimal environment, inside the bubblewrap sandbox of :mod:`.sandbox` unless
the teacher grades with ``--no-sandbox``. ``WORKDIR/job.pkl``, written by the
parent, holds the code cells, the hidden inputs and the limits; it is deleted
once read.

In the sandbox this process is process 1 of its own process namespace. So a
signal sent from inside the sandbox without a handler here (student code
killing itself with SIGTERM, say) is ignored, and so is SIGXCPU at the soft CPU
limit: the hard limit's SIGKILL ends the process one CPU second later. SIGALRM,
which times each step, has its handler.

This process then sets its own resource limits, runs the cells one by one
(an error, a syntax error or a too-long cell is noted and the next cell still
runs), and calls each exercise function on the hidden inputs. It writes only
the function's *outputs* (``ex<i>.npz``, plain arrays) and a status per case
(``ex<i>.json``); it never sees the reference answers, which the parent
computes and compares on its own. Progress goes to ``progress.json`` so the
parent can say where a process that died or was killed had got to.
"""
import json
import os
import pickle
import resource
import signal
import sys
import types

import numpy as np

from ..atomic import atomic_write
from .compare import OutputError, as_outputs, describe_exception

# Keep our own references: student code may replace these module attributes. atomic_write
# holds its own os functions (os.replace, os.fsync, open, ...), bound when fmcnn.atomic was
# imported, i.e. before any student code runs.
_savez, _dumps, _atomic_write = np.savez, json.dumps, atomic_write


class StepTimeout(BaseException):
    """Raised into student code when a step (a cell, or an exercise's cases) runs too long.

    A BaseException, so a student's ``except Exception`` does not swallow it.
    """


def _on_alarm(signum, frame):
    raise StepTimeout


def set_limits(memory_mb, cpu_seconds, file_mb=256):
    """Limit this process: address space, CPU time, size of any file written, no core dumps.

    Soft and hard limits are both set, so the student's code cannot raise them again.
    """
    if memory_mb:
        resource.setrlimit(resource.RLIMIT_AS, (memory_mb * 2**20,) * 2)
    if cpu_seconds:
        resource.setrlimit(resource.RLIMIT_CPU, (int(cpu_seconds), int(cpu_seconds) + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_mb * 2**20,) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def python_source(source):
    """Turn IPython-only lines (``%magic``, ``%%cell_magic``, ``!shell``) into ``pass`` so the cell compiles."""
    lines = []
    for line in source.split("\n"):
        body = line.lstrip()
        if body.startswith(("%", "!")):
            line = line[:len(line) - len(body)] + "pass  # IPython-only line skipped by the grader"
        lines.append(line)
    return "\n".join(lines)


_WORKDIR = "."


def _write_json(name, data):
    """Write ``data`` to WORKDIR/name atomically (absolute path: student code may chdir)."""
    path = os.path.join(_WORKDIR, name)
    try:
        with _atomic_write(path, "w", encoding="utf-8", sync=False) as f:   # read by the parent, not after a crash
            f.write(_dumps(data))
    except OSError:                                              # e.g. the student made WORKDIR read-only
        pass


def _timed(seconds, fn, *args):
    """Run ``fn(*args)`` with a wall-clock alarm of ``seconds`` (StepTimeout when it rings).

    The handler is installed afresh for every step, so student code that
    changed it in one cell does not escape the alarm in the next steps.
    """
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def run_cells(cells, namespace, step_timeout, progress):
    """Execute each ``(label, source)`` in ``namespace``; return a list of notes about cells that failed."""
    import linecache

    notes = []
    for number, (label, source) in enumerate(cells, 1):
        progress["step"] = f"code cell {number} ({label})"
        _write_json("progress.json", progress)
        filename = f"<cell {number}>"
        source = python_source(source)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            code = compile(source, filename, "exec")
        except SyntaxError as e:
            notes.append(f"code cell {number} ({label}) has a syntax error at line {e.lineno}: {e.msg}; "
                         "nothing in it was run")
            continue
        try:
            _timed(step_timeout, exec, code, namespace)
        except StepTimeout:
            notes.append(f"code cell {number} ({label}) was stopped after {step_timeout:g} s")
        except BaseException as e:                               # noqa: BLE001 - SystemExit too
            notes.append(f"code cell {number} ({label}) raised {describe_exception(e)}")
        progress["cells"] = notes
    return notes


def run_exercise(fn, names, cases, step_timeout):
    """Call ``fn`` on every case. Returns (case records, {key: array}).

    A record is {"status": "ok"} (the outputs are saved under keys
    ``c<case>_<output>``), {"status": "not_implemented"}, or
    {"status": "error"/"timeout", "message": ...}.
    """
    records, arrays = [], {}

    def run_all():
        for i, args in enumerate(cases):
            try:
                arrays_i = as_outputs(fn(*args), names)
            except StepTimeout:
                raise
            except NotImplementedError:
                records.append({"status": "not_implemented"})
                continue
            except OutputError as e:
                records.append({"status": "error", "message": str(e)})
                continue
            except MemoryError:
                records.append({"status": "error", "message": "ran out of memory"})
                continue
            except BaseException as e:                           # noqa: BLE001 - SystemExit too
                records.append({"status": "error", "message": "raised " + describe_exception(e)})
                continue
            for j, a in enumerate(arrays_i):
                arrays[f"c{i}_{j}"] = np.array(a, copy=True)
            records.append({"status": "ok"})

    try:
        _timed(step_timeout, run_all)
    except StepTimeout:
        message = f"stopped: the function took longer than {step_timeout:g} s (an endless loop?)"
        records += [{"status": "timeout", "message": message}] * (len(cases) - len(records))
    return records, arrays


def main():
    global _WORKDIR
    workdir = _WORKDIR = os.path.abspath(sys.argv[1])
    os.chdir(workdir)
    with open("job.pkl", "rb") as f:
        job = pickle.load(f)
    os.remove("job.pkl")
    set_limits(job["memory_mb"], job["cpu_seconds"])

    import fmcnn                                                 # the notebooks' check cells need not run
    fmcnn.check = lambda *args, **kwargs: None

    main_module = types.ModuleType("__main__")
    sys.modules["__main__"] = main_module
    namespace = main_module.__dict__
    namespace["display"] = lambda *args, **kwargs: None

    progress = {"cells": [], "step": "start"}
    run_cells(job["cells"], namespace, job["step_timeout"], progress)
    for index, (name, names, cases) in enumerate(job["exercises"]):
        progress["step"] = f"exercise {name}"
        _write_json("progress.json", progress)
        fn = namespace.get(name)
        if not callable(fn):
            result = {"status": "missing"}
        else:
            try:
                records, arrays = run_exercise(fn, names, cases, job["step_timeout"])
                if arrays:
                    target = os.path.join(workdir, f"ex{index}.npz")
                    with _atomic_write(target, "wb", sync=False) as f:
                        _savez(f, **arrays)
                result = {"status": "ran", "cases": records}
            except BaseException as e:                           # noqa: BLE001 - e.g. saving failed
                result = {"status": "error", "message": f"could not record the outputs ({type(e).__name__})"}
        _write_json(f"ex{index}.json", result)
    progress["step"] = "finished"
    _write_json("progress.json", progress)
    sys.stdout.flush()
    os._exit(0)                                                  # skip any atexit hook the student registered
