"""Notebooks graded per second by ``fmcnn grade``, with and without its bubblewrap sandbox, on this machine.

Prints figures; asserts nothing (tests check what grading does, not how fast:
shared machines are noisy). The class is ``--students`` copies of ``solutions/``,
each notebook with a small edit (a comment naming the student in its first code
cell), graded with ``--jobs`` notebooks at a time. The two modes take turns
``--rounds`` times, each round in the other order, so that a slow spell of the
machine falls on both; each figure is the median of the rounds. Printed: the
seconds and notebooks per second of each mode, the time a class of 300 students
would take at that rate, the CPU time per notebook (grader and notebooks'
processes: this hardly depends on other load on the machine, the wall-clock
figures do), and what the sandbox costs.

    python benchmarks/grading.py [--students 50] [--jobs 2] [--rounds 3]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from fmcnn.exercises.grade import grade_class

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"
BIG_CLASS = 300


def build_class(folder, students):
    """Write ``students`` student folders into ``folder``: solutions/ with a comment naming the student.

    Returns the number of notebooks each student hands in.
    """
    notebooks = sorted(SOLUTIONS.glob("*.ipynb"))
    for i in range(students):
        student = Path(folder) / f"student_{i:03d}"
        student.mkdir(parents=True)
        for path in notebooks:
            nb = json.loads(path.read_text())
            cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
            cell["source"] = f"# {student.name}'s notebook\n" + "".join(cell["source"])
            (student / path.name).write_text(json.dumps(nb))
    return len(notebooks)


def cpu_seconds():
    """CPU time used so far by this process and by every process it started that has ended (bwrap and all
    inside it included): the work of grading, which other load on the machine does not change much."""
    own, ended = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + ended.ru_utime + ended.ru_stime


def time_grading(submissions, out, jobs, sandbox):
    """(wall-clock seconds, CPU seconds) of grading the class."""
    shutil.rmtree(out, ignore_errors=True)
    start, cpu = time.perf_counter(), cpu_seconds()
    grade_class(submissions, out, jobs=jobs, progress=False, sandbox=sandbox)
    return time.perf_counter() - start, cpu_seconds() - cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at a time (fmcnn grade --jobs)")
    parser.add_argument("--rounds", type=int, default=3, help="turns of the two modes")
    args = parser.parse_args()

    modes = {"sandbox": True, "no sandbox": False}
    times = {mode: [] for mode in modes}                 # (wall, CPU) seconds of each round
    with tempfile.TemporaryDirectory(prefix="fmcnn-grading-benchmark-") as tmp:
        submissions = Path(tmp) / "submissions"
        per_student = build_class(submissions, args.students)
        for r in range(args.rounds):
            for mode in (list(modes) if r % 2 == 0 else list(modes)[::-1]):
                times[mode].append(time_grading(submissions, Path(tmp) / "out", args.jobs, modes[mode]))
                print(f"round {r + 1}, {mode}: {times[mode][-1][0]:.1f} s, {times[mode][-1][1]:.1f} CPU s",
                      flush=True)

    notebooks = args.students * per_student
    print(f"\nA class of {args.students} students ({notebooks} notebooks), {args.jobs} at a time, "
          f"{os.cpu_count()} cores; median of {args.rounds} rounds.")
    print(f"{'':<12}{'seconds':>9}{'notebooks/s':>13}{f'class of {BIG_CLASS}':>15}{'CPU s/notebook':>16}")
    rate, cpu = {}, {}
    for mode in modes:
        seconds = statistics.median(wall for wall, _ in times[mode])
        rate[mode] = notebooks / seconds
        cpu[mode] = statistics.median(used for _, used in times[mode]) / notebooks
        big = BIG_CLASS * per_student / rate[mode]
        print(f"{mode:<12}{seconds:>9.1f}{rate[mode]:>13.2f}{f'{big / 60:.1f} min':>15}{cpu[mode]:>16.3f}")
    print(f"The sandbox costs {100 * (1 - rate['sandbox'] / rate['no sandbox']):.1f}% of the throughput "
          f"and {100 * (cpu['sandbox'] / cpu['no sandbox'] - 1):.1f}% more CPU time per notebook.")


if __name__ == "__main__":
    main()
