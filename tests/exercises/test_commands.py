"""The command-line wiring: register() adds `exercises generate` and `grade`."""
import argparse
import subprocess
import sys

from .helpers import REPO
from fmcnn.exercises.commands import main, register


def parse(argv):
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


def test_defaults():
    args = parse(["exercises", "generate"])
    assert (args.solutions, args.out, args.check) == ("solutions", "exercises", False)
    args = parse(["grade", "subs", "--out", "out"])
    assert (args.submissions, args.out, args.student, args.jobs, args.timeout, args.memory_mb) == \
        ("subs", "out", None, 2, 30, 2048)
    assert callable(args.func)


def test_grade_unknown_student_or_folder_is_an_error(tmp_path, capsys):
    (tmp_path / "subs").mkdir()
    assert main(["grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"), "--student", "nobody"]) == 2
    assert main(["grade", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_module_entry_point_checks_the_repo():
    result = subprocess.run([sys.executable, "-m", "fmcnn.exercises.commands", "exercises", "generate", "--check"],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "up to date" in result.stdout
