"""The grader's bubblewrap sandbox: a hostile class graded with it and without it, and a sandbox that cannot start.

The hostile class (:mod:`.hostile`) is graded twice with the sandbox: every attack fails or
does no harm, and costs at most its own student's points. Graded twice without it
(``--no-sandbox``), every attack does its damage, so each check here can fail.
"""
import filecmp
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import uuid

import pytest

from .helpers import SOLUTIONS, add_code_cell
from .hostile import ATTACKS, HONEST, NOTEBOOK, POINTS, SPAWNED, HostileClass
from .test_grade import feedback, scores
from fmcnn.cli import main
from fmcnn.exercises import EXERCISES as REGISTRY
from fmcnn.exercises import TOTAL_POINTS
from fmcnn.exercises import grade
from fmcnn.exercises.grade import grade_class, grade_notebook, hidden_answers
from fmcnn.exercises.sandbox import Sandbox, SandboxError

TIMEOUT = 20                                     # seconds per step: fork_many starts its processes in one cell


@pytest.fixture
def server():
    """A TCP server on 127.0.0.1; yields its port and the list of what each connection sent."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    received, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                data = b""
                try:
                    while chunk := connection.recv(4096):
                        data += chunk
                except OSError:
                    pass
                received.append(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], received
    stop.set()
    thread.join()
    listener.close()


def sleeping(argument):
    """The PIDs of the live ``sleep ARGUMENT`` processes on this machine."""
    wanted, pids = f"sleep\0{argument}\0".encode(), []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if entry.isdigit() and f.read() == wanted:
                    pids.append(int(entry))
        except OSError:                          # not a process, or it just ended
            pass
    return pids


def kill_sleeping(argument):
    """Kill the ``sleep ARGUMENT`` processes; return how many there were."""
    pids = sleeping(argument)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return len(pids)


@pytest.fixture
def hostile(tmp_path, monkeypatch, server):
    """The hostile class, built; the job folders are made in its scratch folder. Kills what it leaves behind."""
    tag = uuid.uuid4().int % 10**9
    port, received = server
    hostile_class = HostileClass(tmp_path / "class", port, sleeper=f"600.{tag}1", many=f"600.{tag}2")
    students = hostile_class.build()
    monkeypatch.setattr(tempfile, "tempdir", str(hostile_class.scratch))
    yield hostile_class, students, received
    for argument in (hostile_class.sleeper, hostile_class.many):
        kill_sleeping(argument)


@pytest.fixture
def handed_in(monkeypatch):
    """Every array that the notebooks' processes handed back, as the grader read it."""
    arrays, read = [], grade._read_arrays

    def spy(path):
        result = read(path)
        arrays.extend(result.values())
        return result

    monkeypatch.setattr(grade, "_read_arrays", spy)
    return arrays


def expected_scores(students, lost=()):
    """Full marks for the exercises of the notebook handed in, except the ``lost`` (student, exercise)."""
    return {(s, e): 0.0 if (s, e) in lost else float(POINTS.get(e, 0)) for s in students for e in REGISTRY}


def snapshot(root, skip):
    """{path: content hash (None for a folder)} of everything under ``root`` but the folders in ``skip``."""
    return {str(p.relative_to(root)): None if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if not any(p == s or s in p.parents for s in skip)}


def handed_in_feedback(out, student):
    """The part of a student's feedback about the notebook they handed in (the others are missing)."""
    return feedback(out, student).split(f"## {NOTEBOOK}.ipynb")[1].split("\n## ")[0]


def assert_stopped_by_limits(out):
    """The resource attacks are stopped by the runner's limits, in both modes, at no cost in points."""
    assert "raised OSError: [Errno 27] File too large" in feedback(out, "big_file")
    assert "raised MemoryError" in feedback(out, "big_alloc")
    assert "raised OSError: [Errno 27] File too large" in feedback(out, "big_output")   # the stderr gigabyte
    for student in ("big_file", "big_alloc", "big_output"):
        assert f"Total: {sum(POINTS.values())} / {TOTAL_POINTS} points." in feedback(out, student)


def test_the_sandbox_stops_every_attack_of_a_hostile_class(hostile, handed_in):
    hostile_class, students, received = hostile
    outs = [hostile_class.out(1), hostile_class.out(2)]
    before = snapshot(hostile_class.root, skip=outs)
    for out in outs:
        grade_class(hostile_class.subs, out, jobs=2, timeout=TIMEOUT, progress=False)
        # Started in the sandbox (the cells ran to their end), and gone with it.
        assert sleeping(hostile_class.sleeper) == [] and sleeping(hostile_class.many) == []
        assert "Notes:" not in handed_in_feedback(out, "sleeper") + handed_in_feedback(out, "fork_many")

    assert scores(outs[0]) == expected_scores(students)              # honest or not, full marks
    files = ["grades.csv", "totals.csv"] + [f"feedback/{s}.md" for s in students]
    assert sorted(str(p.relative_to(outs[0])) for p in outs[0].rglob("*") if p.is_file()) == sorted(files)
    assert filecmp.cmpfiles(outs[0], outs[1], files, shallow=False) == (files, [], [])
    assert "1000" not in (outs[0] / "grades.csv").read_text()
    assert snapshot(hostile_class.root, skip=outs) == before             # job folders gone, nothing written
    assert received == []
    stolen = b"".join(a.tobytes() for a in handed_in)
    assert hostile_class.secret.encode() not in stolen and b"### BEGIN SOLUTION" not in stolen

    # Each attack failed for the reason it should.
    assert "raised FileNotFoundError: [Errno 2] No such file or directory" in feedback(outs[0], "leak")
    assert "raised ConnectionRefusedError: [Errno 111] Connection refused" in feedback(outs[0], "network")
    assert "raised OSError: [Errno 30] Read-only file system: 'escaped.txt'" in feedback(outs[0], "cwd_env")
    assert_stopped_by_limits(outs[0])


def test_without_the_sandbox_each_attack_does_its_damage(hostile, handed_in, capsys):
    hostile_class, students, received = hostile
    outs = [hostile_class.out(1), hostile_class.out(2)]
    left_behind = []
    for out in outs:
        assert main(["grade", str(hostile_class.subs), "--out", str(out), "--no-sandbox",
                     "--timeout", str(TIMEOUT)]) == 0
        left_behind.append((kill_sleeping(hostile_class.sleeper), kill_sleeping(hostile_class.many)))
    assert "fmcnn grade: warning: --no-sandbox: student code runs as you" in capsys.readouterr().err

    stolen = b"".join(a.tobytes() for a in handed_in)
    assert hostile_class.secret.encode() in stolen and b"### BEGIN SOLUTION" in stolen
    assert "grades,accuracy,1000,1" in (outs[0] / "grades.csv").read_text()     # written during the second run
    assert (outs[0] / "planted.txt").exists() and (outs[1] / "planted.txt").exists()
    assert received == [b"hello from a student notebook"] * 2
    assert left_behind == [(1, SPAWNED)] * 2
    assert (hostile_class.scratch / "escaped.txt").exists()
    # The damage costs no other student anything: only leak's own accuracy is lost.
    assert scores(outs[1]) == expected_scores(students, lost={("leak", "accuracy")})
    assert_stopped_by_limits(outs[1])


def test_a_crash_in_the_sandbox_is_reported_with_its_signal(tmp_path):
    path = tmp_path / f"{NOTEBOOK}.ipynb"
    shutil.copy(SOLUTIONS / path.name, path)
    add_code_cell(path, "import ctypes\nctypes.string_at(0)", index=2)
    sandbox = Sandbox.find()
    sandbox.check(grade._child_env)
    result = grade_notebook(path, NOTEBOOK, hidden_answers(list(POINTS)), timeout=TIMEOUT, sandbox=sandbox)
    assert any("killed by signal 11 (SIGSEGV: crash) during code cell 2" in note for note in result.notes), \
        result.notes


KERNEL_SETTINGS = ["/proc/sys/vm/overcommit_memory", "/proc/sys/kernel/core_pattern", "/proc/sys/vm/drop_caches"]
# Opens each for writing, writes nothing, and prints what the opening gave.
OPEN_FOR_WRITING = f"""
import os
for path in {KERNEL_SETTINGS!r}:
    try:
        os.close(os.open(path, os.O_WRONLY))
        print("opened")
    except OSError as e:
        print(os.strerror(e.errno))
"""


def test_the_sandbox_cannot_change_the_kernels_settings(tmp_path):
    sandbox = Sandbox.find()
    command = sandbox.wrap(str(tmp_path), [sys.executable, "-I", "-c", OPEN_FOR_WRITING])
    result = subprocess.run(command, env=grade._child_env(str(tmp_path)), capture_output=True, text=True)
    assert result.stdout.split("\n")[:-1] == ["Read-only file system"] * len(KERNEL_SETTINGS), result
    if os.geteuid() == 0:                        # without the sandbox, a grader run as root could
        result = subprocess.run([sys.executable, "-I", "-c", OPEN_FOR_WRITING], capture_output=True, text=True)
        assert result.stdout.split("\n")[:-1] == ["opened"] * len(KERNEL_SETTINGS), result


def test_the_sandbox_binds_only_what_the_child_needs(tmp_path):
    sandbox = Sandbox.find()
    package = os.path.dirname(os.path.abspath(grade.__file__)).removesuffix("/exercises")
    command = sandbox.wrap(str(tmp_path), ["python"])
    binds = [(command[i], command[i + 1], command[i + 2]) for i, arg in enumerate(command)
             if arg in ("--bind", "--ro-bind", "--ro-bind-try")]
    assert [b for b in binds if b[0] == "--bind"] == [("--bind", str(tmp_path), str(tmp_path))]
    assert all(dest != "/" for _, _, dest in binds)
    assert (package, package) in [(src, dest) for _, src, dest in binds]
    # fmcnn's folder, not its parent: for an editable install that is the repository, with the solutions.
    assert sandbox.visible(SOLUTIONS) is None and sandbox.visible(tmp_path) is None
    assert sandbox.visible(os.path.join(package, "exercises")) == os.path.realpath(package)
    for option in ["--unshare-all", "--die-with-parent", "--new-session", "--as-pid-1"]:
        assert option in command
    assert command[-2:] == ["--", "python"]


def test_a_private_folder_that_the_sandbox_would_show_is_refused():
    sandbox = Sandbox.find()
    inside = os.path.join(os.path.dirname(os.path.abspath(grade.__file__)), "submissions")
    with pytest.raises(SandboxError, match=f"{inside} is inside .* which the sandbox shows to student code: move it"):
        sandbox.check(grade._child_env, private=[inside])


@pytest.fixture
def one_student(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    shutil.copy(SOLUTIONS / f"{NOTEBOOK}.ipynb", subs / "alice")
    return subs, tmp_path / "out"


def test_without_bwrap_grading_refuses_and_says_how_to_install_it(one_student, monkeypatch, tmp_path, capsys):
    subs, out = one_student
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert main(["grade", str(subs), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fmcnn grade: error: bubblewrap (the `bwrap` command) is not installed") and \
        err.count("\n") == 1
    assert "sudo apt-get install bubblewrap" in err and "or grade with --no-sandbox" in err
    assert not out.exists()


def test_a_bwrap_that_cannot_start_is_refused_with_its_reason(one_student, monkeypatch, tmp_path, capsys):
    subs, out = one_student
    fake = tmp_path / "bin" / "bwrap"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to create a new namespace' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    assert main(["grade", str(subs), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("fmcnn grade: error: bubblewrap cannot start a sandbox on this machine "
                          "(bwrap: No permissions to create a new namespace).") and err.count("\n") == 1
    assert "sudo apt-get install bubblewrap" in err and "or grade with --no-sandbox" in err
    assert not out.exists()


def test_honest_students_are_graded_the_same_with_and_without_the_sandbox(one_student):
    subs, out = one_student
    grade_class(subs, out / "sandboxed", progress=False)
    grade_class(subs, out / "unsandboxed", progress=False, sandbox=False)
    files = ["grades.csv", "totals.csv", "feedback/alice.md"]
    assert filecmp.cmpfiles(out / "sandboxed", out / "unsandboxed", files, shallow=False) == (files, [], [])
    assert scores(out / "sandboxed") == expected_scores(["alice"])
