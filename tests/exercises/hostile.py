"""A hostile class for tests/exercises/test_sandbox.py: students whose notebooks attack the grader.

Every hostile student hands in one notebook, a copy of ``solutions/10_metrics.ipynb``
(accuracy and confusion_matrix) with a last code cell that attacks. Without the
sandbox each attack does its damage (the resource attacks are stopped by the runner's
limits, in both modes); in the sandbox each costs at most that student's own points.

The folders are laid out so that an attack run without the sandbox stays inside the
test's folder: the job folders are made in ``root/scratch/tmp`` (the test points
``tempfile`` there), so ``../../..`` of a job folder is ``root``, and the attack that
walks up to find grades.csv files has a safety catch for anything outside ``root``.
"""
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from .helpers import SOLUTIONS, add_code_cell
from fmcnn.exercises import EXERCISES, NOTEBOOKS

NOTEBOOK = "10_metrics"
POINTS = {name: EXERCISES[name].points for name in NOTEBOOKS[NOTEBOOK]}     # accuracy 1, confusion_matrix 2
SPAWNED = 2000                                   # processes started by the fork_many attack

ATTACKS = {
    # Read another student's notebook and a solution, and hand them in as accuracy's output.
    "leak": '''
stolen = b"".join(open(path, "rb").read() for path in [{alice!r}, {solution!r}])

def accuracy(logits, y_true):
    return np.frombuffer(stolen, dtype=np.uint8)
''',
    # Give myself points in every grades.csv within reach (the attack) and in the previous
    # run's by its path, and leave a file in the output folders.
    "grades": '''
import os
targets = {{os.path.realpath(os.path.join({previous!r}, "grades.csv"))}}
for top in ["..", "../..", "../../.."]:
    if os.path.realpath(top).startswith({root!r}):    # the test's safety catch
        for folder, _, files in os.walk(top):
            if "grades.csv" in files:
                targets.add(os.path.realpath(os.path.join(folder, "grades.csv")))
for target in sorted(targets):
    try:
        with open(target, "a") as f:
            f.write("grades,accuracy,1000,1\\n")
    except OSError:
        pass
for out in [{previous!r}, {current!r}]:
    try:
        os.makedirs(out, exist_ok=True)
        with open(os.path.join(out, "planted.txt"), "w") as f:
            f.write("written by a student")
    except OSError:
        pass
''',
    # Send something to a server on the machine.
    "network": '''
import socket
with socket.create_connection(("127.0.0.1", {port}), timeout=10) as connection:
    connection.sendall(b"hello from a student notebook")
''',
    # A process that outlives the notebook: in a session of its own, out of the grader's process group.
    "sleeper": '''
import subprocess
subprocess.Popen(["sleep", {sleeper!r}], start_new_session=True)
''',
    # Many processes, each in a session of its own.
    "fork_many": f'''
import subprocess
for _ in range({SPAWNED}):
    subprocess.Popen(["sleep", {{many!r}}], start_new_session=True, stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
''',
    # A 10 GB file in the job folder.
    "big_file": '''
chunk = b"x" * 2**20
with open("big.bin", "wb") as f:
    for _ in range(10 * 2**10):
        f.write(chunk)
''',
    # 50 GB of memory.
    "big_alloc": '''
hog = np.ones(50 * 2**30 // 8)
''',
    # A gigabyte on stdout, then on stderr (which the grader keeps in a file for its error messages).
    "big_output": '''
import sys
chunk = "x" * 2**20
for stream in [sys.stdout, sys.stderr]:
    for _ in range(2**10):
        stream.write(chunk)
    stream.flush()
''',
    # Another working directory and environment, and a file written there.
    "cwd_env": '''
import os
os.environ.clear()
os.environ.update(HOME="/nonexistent", PATH="/nonexistent", PYTHONPATH="/nonexistent", TMPDIR="/nonexistent")
os.chdir("..")
with open("escaped.txt", "w") as f:
    f.write("written outside the job folder")
''',
}
HONEST = ["alice", "bob"]                        # 10_metrics.ipynb from solutions/, with a secret in alice's


@dataclass
class HostileClass:
    """Where the hostile class and its runs live, and what marks what its students did."""

    root: Path
    port: int                                    # of the test's TCP server on 127.0.0.1
    sleeper: str                                 # the argument of the sleeper's `sleep`, unique to this test
    many: str                                    # the same for fork_many's processes

    @property
    def subs(self):
        return self.root / "subs"

    @property
    def scratch(self):
        """Where the job folders are made (tempfile.tempdir), two levels below root."""
        return self.root / "scratch" / "tmp"

    def out(self, run):
        return self.root / f"out{run}"

    @property
    def secret(self):
        return f"SECRET OF ALICE {self.sleeper}"

    def build(self, attacks=ATTACKS):
        """Write the submissions: the honest students and one student per attack in ``attacks``."""
        self.scratch.mkdir(parents=True)
        for name in HONEST:
            folder = self.subs / name
            folder.mkdir(parents=True)
            shutil.copy(SOLUTIONS / f"{NOTEBOOK}.ipynb", folder)
        add_code_cell(self.subs / "alice" / f"{NOTEBOOK}.ipynb", f"# {self.secret}")
        values = dict(alice=str(self.subs / "alice" / f"{NOTEBOOK}.ipynb"),
                      solution=str(SOLUTIONS / f"{NOTEBOOK}.ipynb"), root=str(self.root.resolve()),
                      previous=str(self.out(1)), current=str(self.out(2)), port=self.port,
                      sleeper=self.sleeper, many=self.many)
        for name in attacks:
            path = self.subs / name / f"{NOTEBOOK}.ipynb"
            path.parent.mkdir(parents=True)
            shutil.copy(SOLUTIONS / path.name, path)
            cells = len(json.loads(path.read_text())["cells"])
            add_code_cell(path, ATTACKS[name].format(**values).strip() + "\n", index=cells)
        return sorted([*HONEST, *attacks])
