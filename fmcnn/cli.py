"""The ``fmcnn`` command line: train, evaluate, plot, summary (and exercises, grade)."""
import argparse
import json
import sys
import time
from dataclasses import fields
from pathlib import Path

from .train import RECIPES, TrainConfig


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
    # Resuming continues the saved run: only the options given now change it.
    resumed = TrainConfig.from_dict(json.loads(saved.read_text())) if args.resume and saved.exists() else None
    config = config_from_args(args, resumed)
    name = "LeNet-BN" if config.width == 1 else f"LeNet-BN x{config.width}"
    print(f"Training {name} into {args.out} with {config}")
    t = time.perf_counter()
    _, log = train(config, args.out, resume=args.resume, progress=not args.quiet)
    print(f"Done: {config.steps} steps; last 100 steps mean loss {log['loss'][-100:].mean():.4f}; "
          f"this session {time.perf_counter() - t:.1f} s, whole run {log['seconds'][-1]:.1f} s of training.")
    return 0


def cmd_evaluate(args):
    from .data import CLASS_NAMES
    from .evaluate import evaluate_run, per_class_table, write_evaluation
    from .viz import plot_confusion_matrix

    results = evaluate_run(args.run_dir)
    write_evaluation(args.run_dir, results)
    print(f"Test accuracy of every checkpoint in {args.run_dir} (10,000 test images, BatchNorm in eval mode):")
    print(f"{'step':>8}  {'accuracy':>8}")
    for step, acc, _ in results:
        print(f"{step:>8}  {acc:>8.4f}")
    step, acc, cm = results[-1]
    print(f"\nPer-class accuracy at step {step}:")
    print("\n".join(per_class_table(cm, CLASS_NAMES)))
    out = Path(args.run_dir) / "confusion_matrix.png"
    plot_confusion_matrix(cm, CLASS_NAMES, title=f"Confusion matrix, step {step} (test accuracy {acc:.4f})").savefig(out, dpi=120)
    print(f"\nSaved {out}")
    return 0


def cmd_plot(args):
    from .train import read_log
    from .viz import plot_curves

    log = read_log(args.run_dir)
    out = Path(args.run_dir) / "curves.png"
    plot_curves(log, window=args.window, title=f"Training curves of {args.run_dir}").savefig(out, dpi=120)
    print(f"Saved {out}")
    return 0


def cmd_summary(args):
    from .models import lenet_bn

    print(lenet_bn().summary())
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="fmcnn", description="A NumPy CNN for Fashion-MNIST: train, evaluate, plot.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train LeNet-BN and write logs and checkpoints to a run directory")
    p.add_argument("--out", required=True, help="run directory (config.json, log.csv, checkpoints/)")
    p.add_argument("--recipe", choices=sorted(RECIPES), default="course",
                   help="defaults to start from: 'course' (Adam, cosine, normalized, shuffled epochs, 5000 steps), "
                        "'full' (the course recipe for 30 epochs with shifts and flips: the pretrained model), "
                        "'wide' (every layer three times as wide, 15 epochs, shifts and flips) or "
                        "'original' (the original project: SGD momentum 0.9, lr 5e-4, sampling with replacement)")
    p.add_argument("--steps", type=int)
    p.add_argument("--batch-size", type=int, dest="batch_size")
    p.add_argument("--seed", type=int)
    p.add_argument("--optimizer", choices=["adam", "sgd"])
    p.add_argument("--lr", type=float)
    p.add_argument("--momentum", type=float)
    p.add_argument("--weight-decay", type=float, dest="weight_decay")
    p.add_argument("--schedule", choices=["constant", "cosine"])
    p.add_argument("--warmup-steps", type=int, dest="warmup_steps")
    p.add_argument("--sampling", choices=["epochs", "replacement"])
    p.add_argument("--normalize", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--augment", action=argparse.BooleanOptionalAction, default=None,
                   help="random shifts (of up to --shift pixels) and horizontal flips (unless --no-flip)")
    p.add_argument("--shift", type=int, help="largest shift in pixels when augmenting (default 2; 0 for none)")
    p.add_argument("--flip", action=argparse.BooleanOptionalAction, default=None,
                   help="mirror half of the images when augmenting (default on)")
    p.add_argument("--checkpoint-every", type=int, dest="checkpoint_every")
    p.add_argument("--width", type=int,
                   help="multiply LeNet-BN's channels and hidden units by this whole number (default 1)")
    p.add_argument("--fused", action=argparse.BooleanOptionalAction, default=None,
                   help="train with fmcnn.fused.FusedLeNetBN, the fast implementation of chapter 13 "
                        "(uses two cores; same model and checkpoints; results differ by float32 rounding)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its latest checkpoint")
    p.add_argument("--resume-if-exists", action="store_true", dest="resume_if_exists",
                   help="resume if --out already holds a run, otherwise start one (a finished run is left as it is)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("evaluate", help="test accuracy of every checkpoint of a run, and a confusion matrix")
    p.add_argument("run_dir")
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("plot", help="save loss and accuracy curves of a run")
    p.add_argument("run_dir")
    p.add_argument("--window", type=int, default=100, help="moving-average window in steps")
    p.set_defaults(func=cmd_plot)

    p = sub.add_parser("summary", help="print the LeNet-BN layer table")
    p.set_defaults(func=cmd_summary)

    from .exercises.commands import register

    register(sub)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (FileNotFoundError, FileExistsError, ValueError, FloatingPointError) as e:
        print(f"fmcnn {args.command}: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
