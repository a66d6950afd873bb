"""The ``fmcnn`` command line: train, evaluate, plot, summary (and exercises, grade).

An expected error (missing or damaged files, no network, bad options) is one line
on stderr, ``fmcnn COMMAND: error: what went wrong and what to do``, and exit
status 2, never a traceback: see :func:`run`. Bugs still raise.
"""
import argparse
import sys
import time
import typing
from dataclasses import fields
from pathlib import Path

from .errors import FmcnnError
from .train import RECIPES, TrainConfig, read_config

# The errors a command reports in one line: fmcnn's own (their messages say what to do) and
# the operating system's (a missing folder, a full disk, no permission, no network).
EXPECTED_ERRORS = (FmcnnError, OSError)


class UsageError(FmcnnError):
    """A command line that argparse cannot parse; ``prog`` is the (sub)command it belongs to."""

    def __init__(self, prog, message):
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are UsageErrors, reported in one line like every
    other expected error, instead of a usage text and an exit of its own."""

    def error(self, message):
        raise UsageError(self.prog, f"{message} (see `{self.prog} --help`)")


def positive_int(text):
    """argparse type: a whole number >= 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}")
    return int(text)


def config_from_args(args, saved=None):
    """The :class:`TrainConfig` that ``fmcnn train`` options give: the defaults, then the
    recipe, then ``saved`` (a resumed run's config, if any), then every option given."""
    values = {f.name: f.default for f in fields(TrainConfig)}
    values.update(RECIPES[args.recipe])
    if saved is not None:
        values.update(saved.__dict__)
    values.update({k: v for k, v in vars(args).items() if k in values and v is not None})
    return TrainConfig(**values)


def cmd_train(args):
    from .train import train

    saved = Path(args.out) / "config.json"
    if args.resume_if_exists:
        args.resume = saved.exists()
    args.resume = args.resume or args.resume_from is not None
    # Resuming continues the saved run: only the options given now change it.
    resumed = read_config(args.out) if args.resume and saved.exists() else None
    config = config_from_args(args, resumed)
    name = "LeNet-BN" if config.width == 1 else f"LeNet-BN x{config.width}"
    print(f"Training {name} into {args.out} with {config}")
    t = time.perf_counter()
    _, log = train(config, args.out, resume=args.resume, resume_from=args.resume_from, progress=not args.quiet)
    print(f"Done: {config.steps} steps; last 100 steps mean loss {log['loss'][-100:].mean():.4f}; "
          f"this session {time.perf_counter() - t:.1f} s, whole run {log['seconds'][-1]:.1f} s of training.")
    return 0


def cmd_evaluate(args):
    from .data import CLASS_NAMES
    from .evaluate import evaluate_run, per_class_table, write_evaluation

    skipped = []
    results = evaluate_run(args.run_dir, skipped=skipped)
    for step, error in skipped:
        print(f"fmcnn evaluate: warning: skipped step {step}: {one_line(error)}", file=sys.stderr)
    table = write_evaluation(args.run_dir, results, skipped)
    print(f"Test accuracy of every checkpoint in {args.run_dir} (10,000 test images, BatchNorm in eval mode):")
    print(f"{'step':>8}  {'accuracy':>8}")
    for row in table:
        acc = row["test_accuracy"]
        print(f"{row['step']:>8}  {'unreadable, skipped' if acc is None else f'{acc:>8.4f}'}")
    step, acc, cm = results[-1]
    print(f"\nPer-class accuracy at step {step}:")
    print("\n".join(per_class_table(cm, CLASS_NAMES)))
    from .viz import plot_confusion_matrix   # imported here: matplotlib takes 0.4 s, and an error needs none of it

    out = Path(args.run_dir) / "confusion_matrix.png"
    plot_confusion_matrix(cm, CLASS_NAMES, title=f"Confusion matrix, step {step} (test accuracy {acc:.4f})").savefig(out, dpi=120)
    print(f"\nSaved {out}")
    return 0


def cmd_plot(args):
    from .train import read_log

    log = read_log(args.run_dir)
    from .viz import plot_curves   # imported here: matplotlib takes 0.4 s, and an error needs none of it

    out = Path(args.run_dir) / "curves.png"
    plot_curves(log, window=args.window, title=f"Training curves of {args.run_dir}").savefig(out, dpi=120)
    print(f"Saved {out}")
    return 0


def cmd_summary(args):
    from .models import lenet_bn

    print(lenet_bn().summary())
    return 0


def add_config_options(parser):
    """Add one option per :class:`TrainConfig` field to ``parser``: ``--batch-size`` for
    ``batch_size``, and so on. The field's type gives the option's type (a bool gives
    ``--flag``/``--no-flag``); its help and choices come from the field's metadata. Every
    option defaults to None, "not given", so that :func:`config_from_args` keeps the
    recipe's or the resumed run's value."""
    group = parser.add_argument_group(
        "training config", "Options not given keep the value of --recipe or, when resuming, of the "
                           "resumed run; the defaults shown are those of the 'course' recipe.")
    types = typing.get_type_hints(TrainConfig)
    for f in fields(TrainConfig):
        kind, default = types[f.name], f.default
        shown = ("on" if default else "off") if kind is bool else default
        kwargs = dict(dest=f.name, default=None, help=f"{f.metadata['help']} (default {shown})")
        if kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        elif kind in (int, float, str):
            kwargs["type"] = kind
        else:
            raise TypeError(f"TrainConfig.{f.name}: no command-line option for type {kind!r}")
        if "choices" in f.metadata:
            kwargs["choices"] = f.metadata["choices"]
        group.add_argument("--" + f.name.replace("_", "-"), **kwargs)


def build_parser():
    parser = Parser(prog="fmcnn", description="A NumPy CNN for Fashion-MNIST: train, evaluate, plot.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train LeNet-BN and write logs and checkpoints to a run directory")
    p.add_argument("--out", required=True, help="run directory (config.json, log.csv, checkpoints/)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="course",
                   help="defaults to start from: 'course' (Adam, cosine, normalized, shuffled epochs, 5000 steps), "
                        "'full' (the course recipe for 30 epochs with shifts and flips: the pretrained model), "
                        "'wide' (every layer three times as wide, 15 epochs, shifts and flips) or "
                        "'original' (the original project: SGD momentum 0.9, lr 5e-4, sampling with replacement)")
    add_config_options(p)
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    p.add_argument("--resume-from", dest="resume_from", metavar="CHECKPOINT",
                   help="continue the run in --out from this checkpoint (e.g. step_000020, 20 or its path) instead "
                        "of the latest, e.g. when the latest cannot be read; the later checkpoints are first moved, "
                        "with a copy of log.csv, into --out/set_aside/ (nothing is deleted or overwritten)")
    p.add_argument("--resume-if-exists", action="store_true", dest="resume_if_exists",
                   help="resume if --out already holds a run, otherwise start one (a finished run is left as it is)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test accuracy of every checkpoint of a run, and a confusion matrix")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plot", help="save loss and accuracy curves of a run")
    p.add_argument("run_dir")
    p.add_argument("--window", type=positive_int, default=100, help="moving-average window in steps")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("summary", help="print the LeNet-BN layer table")
    p.set_defaults(func=cmd_summary)

    from .exercises.commands import register

    register(sub)
    return parser


def one_line(error):
    """The message of ``error`` on one line. A multi-line message (such as the data loader's
    folders searched and ways to get the data) has its lines joined: list items ("- ...")
    by semicolons, a line indented under an item as part of it, the line after a list as a
    new sentence."""
    text, item_indent = "", None   # item_indent: how far the "- " of the list item being read is indented
    for raw in str(error).splitlines():
        line, indent = raw.strip(), len(raw) - len(raw.lstrip())
        if not line:
            continue
        if line.startswith("- "):
            sep, item_indent, line = ("; " if item_indent is not None else " "), indent, line[2:]
        elif item_indent is not None and indent > item_indent:
            sep = " "
        else:
            sep = ". " if item_indent is not None and not text.endswith((".", ":")) else " "
            item_indent = None
        text += (sep if text else "") + line
    return text


def run(parser, argv=None):
    """Parse ``argv`` with ``parser`` and run the chosen command; returns the exit status.

    An expected error (EXPECTED_ERRORS, usage errors included) is printed as one line on
    stderr, ``PROG COMMAND: error: MESSAGE``, and gives exit status 2; anything else is a
    bug and raises, traceback and all.
    """
    prog = parser.prog
    try:
        args = parser.parse_args(argv)
        prog = f"{parser.prog} {args.command}"
        return args.func(args)
    except EXPECTED_ERRORS as e:
        print(f"{e.prog if isinstance(e, UsageError) else prog}: error: {one_line(e)}", file=sys.stderr)
        return 2


def main(argv=None):
    return run(build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
