"""Command-line entry points: ``fmcnn exercises generate`` and ``fmcnn grade``.

``fmcnn/cli.py`` calls :func:`register` on its subparsers; ``python -m
fmcnn.exercises.commands ...`` runs the same commands on their own.
"""
import sys


def cmd_exercises(args):
    """``fmcnn exercises generate [--solutions DIR] [--out DIR] [--check]``."""
    from .generate import generate

    problems = generate(args.solutions, args.out, check=args.check)
    if args.check:
        if problems:
            print(f"{args.out}/ is out of date with {args.solutions}/:")
            for path, reason in problems:
                print(f"  {path}: {reason}")
            print("Run `fmcnn exercises generate` and commit the result.")
            return 1
        print(f"{args.out}/ is up to date with {args.solutions}/.")
        return 0
    for path, reason in problems:
        print(f"note: {path} has no solution notebook" if reason == "no solution notebook"
              else f"wrote {path} (it was {reason})")
    if not problems:
        print(f"{args.out}/ was already up to date.")
    return 0


def cmd_grade(args):
    """``fmcnn grade SUBMISSIONS_DIR --out OUT_DIR [--student NAME] [--jobs N] [--timeout S] [--memory-mb M]
    [--no-sandbox]``."""
    from .checker import format_points
    from .grade import grade_class

    if args.no_sandbox:
        print("fmcnn grade: warning: --no-sandbox: student code runs as you, and can read and change your files "
              "(other submissions, earlier grades) and use the network", file=sys.stderr)
    graded = grade_class(args.submissions, args.out, student=args.student, jobs=args.jobs,
                         timeout=args.timeout, memory_mb=args.memory_mb, progress=True,
                         sandbox=not args.no_sandbox)
    for student, notebooks in graded.items():
        score = sum(e.score for nb in notebooks for e in nb.exercises)
        max_score = sum(e.max_score for nb in notebooks for e in nb.exercises)
        print(f"{student}: {format_points(score)} / {max_score}")
    print(f"Wrote {args.out}/grades.csv, {args.out}/totals.csv and {args.out}/feedback/ "
          f"({len(graded)} student{'s' if len(graded) != 1 else ''} graded).")
    return 0


def register(subparsers):
    """Add the ``exercises`` and ``grade`` subcommands to an argparse ``subparsers`` object."""
    p = subparsers.add_parser("exercises", help="manage the exercise notebooks",
                              description="Generate the student notebooks exercises/ from the solutions/.")
    actions = p.add_subparsers(dest="action", required=True)
    g = actions.add_parser("generate", help="replace every ### BEGIN/END SOLUTION block with a stub",
                           description="Write OUT/X.ipynb for every SOLUTIONS/X.ipynb, with each solution block "
                                       "replaced by `# YOUR CODE HERE` / `raise NotImplementedError` and no outputs.")
    g.add_argument("--solutions", default="solutions", help="folder of solution notebooks (default: solutions)")
    g.add_argument("--out", default="exercises", help="folder to write the exercise notebooks to (default: exercises)")
    g.add_argument("--check", action="store_true",
                   help="write nothing; exit with status 1 if the exercises are not up to date")
    g.set_defaults(func=cmd_exercises)

    p = subparsers.add_parser("grade", help="grade a folder of student submissions",
                              description="Grade every student folder in SUBMISSIONS_DIR (each holding that "
                                          "student's exercise notebooks) on hidden test cases, each notebook in "
                                          "its own limited process in a bubblewrap sandbox. Writes "
                                          "OUT_DIR/grades.csv, totals.csv and feedback/<student>.md.")
    p.add_argument("submissions", metavar="SUBMISSIONS_DIR", help="one folder per student")
    p.add_argument("--out", required=True, metavar="OUT_DIR", help="where to write grades.csv, totals.csv, feedback/")
    p.add_argument("--student", metavar="NAME", help="regrade only this student; other rows are left unchanged")
    p.add_argument("--jobs", type=int, default=2, metavar="N", help="notebooks graded in parallel (default: 2)")
    p.add_argument("--timeout", type=float, default=30, metavar="S",
                   help="seconds allowed for each cell and for each exercise's hidden cases; the whole "
                        "notebook is stopped after 3*S+5 s (default: 30)")
    p.add_argument("--memory-mb", type=int, default=2048, dest="memory_mb", metavar="M",
                   help="address-space limit of each notebook's process in MB (default: 2048)")
    p.add_argument("--no-sandbox", action="store_true", dest="no_sandbox",
                   help="run student code without bubblewrap, as you: it can then read and change your files "
                        "and use the network (only for notebooks you trust)")
    p.set_defaults(func=cmd_grade)


def main(argv=None):
    from ..cli import Parser, run   # the same one-line errors as `fmcnn`

    parser = Parser(prog="fmcnn", description="fmcnn exercises and grading.")
    register(parser.add_subparsers(dest="command", required=True))
    return run(parser, argv)


if __name__ == "__main__":
    sys.exit(main())
