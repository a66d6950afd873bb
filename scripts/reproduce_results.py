"""Rerun every headline figure of the course and write it to results/.

Each experiment is one ``fmcnn train`` command line, run once per seed into
``runs/<experiment>_s<seed>`` (gitignored), then evaluated on the official
10,000-image test set (BatchNorm in evaluation mode) with ``fmcnn.evaluate``.
The command, the accuracy of every checkpoint, the training time and the
spread over seeds go to ``results/<experiment>.json``; ``results/summary.csv``
collects the final figures. Runs that already finished are only re-evaluated,
interrupted runs are resumed (the result is identical to an uninterrupted run).

Usage (from the repository root; one BLAS thread is fastest on a shared machine):

    OPENBLAS_NUM_THREADS=1 python scripts/reproduce_results.py                 # everything
    OPENBLAS_NUM_THREADS=1 python scripts/reproduce_results.py course_5k original_5k
    python scripts/reproduce_results.py --list
    python scripts/reproduce_results.py --export-pretrained                      # after course_full

Training times depend on the machine and its load; accuracies do not (same
command, same seed, same numbers, up to float32 rounding in BLAS).
"""
import argparse
import csv
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "results"
RUNS = ROOT / "runs"

# name: (fmcnn train options, seeds, what it shows)
EXPERIMENTS = {
    "original_5k": ("--recipe original --steps 5000", (0, 1),
                    "the original project's recipe: SGD momentum 0.9, lr 5e-4, batches drawn with replacement, "
                    "inputs in [0, 1]"),
    "course_5k": ("--recipe course --steps 5000", (0, 1),
                  "the course's default recipe (Adam 2e-3, cosine schedule, standardized inputs, shuffled epochs), "
                  "same network, same 5000 steps"),
    "course_full": ("--recipe full", (0, 1),
                    "the course's full training of the same network (seed 0 is the pretrained model)"),
    "wide": ("--recipe wide", (0, 1),
             "going further: LeNet-BN three times as wide in every layer (width 3), augmentation, 15 epochs"),
    # What moves accuracy and what does not: one change at a time.
    "wide_no_augment": ("--recipe wide --no-augment", (0,),
                        "the wide network (width 3, 15 epochs) without augmentation"),
    "course_5k_unnormalized": ("--recipe course --steps 5000 --no-normalize", (0,),
                               "course recipe with inputs in [0, 1] instead of standardized"),
    "course_5k_constant_lr": ("--recipe course --steps 5000 --schedule constant", (0,),
                              "course recipe without the schedule: constant learning rate 2e-3"),
    "course_5k_augment": ("--recipe course --steps 5000 --augment", (0,),
                          "course recipe with shifts of up to 2 pixels and flips"),
    "course_5k_weight_decay": ("--recipe course --steps 5000 --weight-decay 5e-4", (0,),
                               "course recipe with L2 weight decay 5e-4"),
    "epochs30_no_augment": ("--recipe full --no-augment", (0,),
                            "the full training (30 epochs) without augmentation"),
    "epochs15_no_augment": ("--recipe course --steps 14055", (0, 1),
                            "course recipe for 15 epochs"),
    "epochs15_shift2": ("--recipe course --steps 14055 --augment", (0,),
                        "15 epochs, shifts of up to 2 pixels and flips"),
    "epochs15_shift1": ("--recipe course --steps 14055 --augment --shift 1", (0,),
                        "15 epochs, shifts of up to 1 pixel and flips"),
    "epochs15_flip": ("--recipe course --steps 14055 --augment --shift 0", (0, 1),
                      "15 epochs, flips only"),
    "epochs15_flip_wd": ("--recipe course --steps 14055 --augment --shift 0 --weight-decay 5e-4", (0,),
                         "15 epochs, flips only, weight decay 5e-4"),
}


def run_dir(name, seed):
    return RUNS / f"{name}_s{seed}"


def command(name, seed):
    opts, _, _ = EXPERIMENTS[name]
    return f"fmcnn train --out runs/{name}_s{seed} {opts} --seed {seed} --quiet"


def finished(name, seed):
    """Whether runs/<name>_s<seed> holds the checkpoint of its last step."""
    from fmcnn.train import TrainConfig, list_checkpoints
    out = run_dir(name, seed)
    if not (out / "config.json").exists():
        return False
    done = list_checkpoints(out)
    return bool(done) and done[-1][0] >= TrainConfig.from_dict(json.loads((out / "config.json").read_text())).steps


def train_one(name, seed):
    """Run (or resume, or skip) one training; returns the command line used."""
    cmd = command(name, seed)
    out = run_dir(name, seed)
    args = shlex.split(cmd)
    if finished(name, seed):
        print(f"[{name} seed {seed}] already trained ({out})", flush=True)
        return cmd
    if (out / "config.json").exists():
        args.append("--resume")
    print(f"[{name} seed {seed}] {' '.join(args)}", flush=True)
    env = dict(os.environ, OPENBLAS_NUM_THREADS=os.environ.get("OPENBLAS_NUM_THREADS", "1"))
    subprocess.run([sys.executable, "-m", "fmcnn.cli", *args[1:]], cwd=ROOT, env=env, check=True)
    return cmd


def expected_config(name, seed):
    """The configuration that the experiment's command line gives, as ``fmcnn train`` builds it."""
    from dataclasses import asdict

    from fmcnn.cli import build_parser, config_from_args
    return asdict(config_from_args(build_parser().parse_args(shlex.split(command(name, seed))[1:])))


def evaluate_one(name, seed, test_data):
    from dataclasses import asdict

    from fmcnn.evaluate import evaluate_run
    from fmcnn.train import TrainConfig, read_log
    out = run_dir(name, seed)
    config = asdict(TrainConfig.from_dict(json.loads((out / "config.json").read_text())))
    if config != expected_config(name, seed):
        raise SystemExit(f"{out} was trained with {config}, but `{command(name, seed)}` gives "
                         f"{expected_config(name, seed)}; move the run away and train again.")
    table = evaluate_run(out, data=test_data)
    log = read_log(out)
    write_curve(name, seed, log)
    return {
        "seed": seed,
        "command": command(name, seed),
        "config": config,
        "test_accuracy_by_step": {str(s): round(a, 4) for s, a, _ in table},
        "final_test_accuracy": round(table[-1][1], 4),
        "final_confusion_matrix": table[-1][2].tolist(),
        "training_seconds": round(float(log["seconds"][-1]), 1),
        "last_100_steps_train_loss": round(float(log["loss"][-100:].mean()), 4),
    }


def write_curve(name, seed, log, every=100):
    """Training curve of a run, averaged over blocks of ``every`` steps, to results/curves/."""
    n = len(log["step"]) // every * every
    block = lambda k: log[k][:n].reshape(-1, every).mean(axis=1)
    path = RESULTS / "curves" / f"{name}_s{seed}.csv"
    path.parent.mkdir(exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["step", "mean_loss", "mean_batch_accuracy", "lr", "seconds"])
        for step, loss, acc, lr, sec in zip(log["step"][every - 1:n:every], block("loss"), block("accuracy"),
                                            log["lr"][every - 1:n:every], log["seconds"][every - 1:n:every]):
            writer.writerow([int(step), f"{loss:.5f}", f"{acc:.5f}", f"{lr:.6g}", f"{sec:.1f}"])


def network_commit():
    """The last commit that changed the network's code (fmcnn/nn, the layers, and fmcnn/fast, the
    fused network that `fmcnn train` runs), if this is a git checkout."""
    paths = ["--", "fmcnn/nn", "fmcnn/fast"]
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h %cs", *paths], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", *paths], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return out + (" (with uncommitted changes)" if dirty else "")


def summarize(name, runs):
    finals = np.array([r["final_test_accuracy"] for r in runs])
    secs = np.array([r["training_seconds"] for r in runs])
    steps = sorted({s for r in runs for s in r["test_accuracy_by_step"]}, key=int)
    by_step = {s: [r["test_accuracy_by_step"][s] for r in runs if s in r["test_accuracy_by_step"]] for s in steps}
    return {
        "experiment": name,
        "description": EXPERIMENTS[name][2],
        "commands": [r["command"] for r in runs],
        "seeds": [r["seed"] for r in runs],
        "final_test_accuracy": {"mean": round(float(finals.mean()), 4), "min": round(float(finals.min()), 4),
                                "max": round(float(finals.max()), 4),
                                "spread": round(float(finals.max() - finals.min()), 4)},
        "test_accuracy_by_step_mean": {s: round(float(np.mean(v)), 4) for s, v in by_step.items()},
        "training_minutes": {"mean": round(float(secs.mean()) / 60, 1), "min": round(float(secs.min()) / 60, 1),
                             "max": round(float(secs.max()) / 60, 1)},
        "evaluation": "official Fashion-MNIST test set (10,000 images), BatchNorm in evaluation mode",
        "machine_note": "training times on the course's 2-core development machine, shared with other work "
                        "(its load varied during the measurements); one OpenBLAS thread",
        "network_code": network_commit(),
        "reproducibility": "the same command, seed and code give the same numbers bit for bit; a change of "
                           "float32 rounding in the layers (or another BLAS) changes a run's figures at the level "
                           "of the spread between seeds",
        "runs": runs,
    }


def write_summary():
    rows = []
    for path in sorted(RESULTS.glob("*.json")):
        d = json.loads(path.read_text())
        if "experiment" not in d:
            continue
        acc, mins = d["final_test_accuracy"], d["training_minutes"]
        rows.append({"experiment": d["experiment"], "seeds": " ".join(map(str, d["seeds"])),
                     "steps": d["runs"][0]["config"]["steps"], "width": d["runs"][0]["config"].get("width", 1),
                     "test_accuracy_mean": acc["mean"], "test_accuracy_min": acc["min"],
                     "test_accuracy_max": acc["max"], "training_minutes_mean": mins["mean"],
                     "command": d["commands"][0].replace(f"--seed {d['seeds'][0]}", "--seed SEED")
                                                 .replace(f"_s{d['seeds'][0]}", "_sSEED")})
    with open(RESULTS / "summary.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def export_pretrained(name="course_full", seed=0):
    """Copy the final model state (parameters and BatchNorm statistics, no optimizer state) of
    runs/<name>_s<seed> to fmcnn/weights/lenet_bn.npz and record its test accuracy."""
    from fmcnn.checkpoint import save_checkpoint
    from fmcnn.data import load_fashion_mnist
    from fmcnn.evaluate import evaluate_model, load_model
    from fmcnn.models import PRETRAINED_PATH, lenet_bn
    from fmcnn.train import list_checkpoints
    step, path = list_checkpoints(run_dir(name, seed))[-1]
    model, meta = load_model(path)
    save_checkpoint(PRETRAINED_PATH, model, meta={"step": step, "config": meta["config"],
                                                  "command": command(name, seed)})
    PRETRAINED_PATH.chmod(0o644)   # readable by everyone, like the rest of the package
    acc, _ = evaluate_model(lenet_bn(pretrained=True), *load_fashion_mnist("test"))
    record = {"weights": "fmcnn/weights/lenet_bn.npz", "command": command(name, seed),
              "export": "python scripts/reproduce_results.py --export-pretrained",
              "steps": step, "test_accuracy": round(acc, 4),
              "evaluation": "official Fashion-MNIST test set (10,000 images), BatchNorm in evaluation mode"}
    (RESULTS / "pretrained.json").write_text(json.dumps(record, indent=2) + "\n")
    print(f"Exported {path} -> {PRETRAINED_PATH} ({PRETRAINED_PATH.stat().st_size / 1024:.0f} KB); "
          f"test accuracy {acc:.4f}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("experiments", nargs="*", help="names (default: all); see --list")
    parser.add_argument("--list", action="store_true", help="print the experiments and their commands")
    parser.add_argument("--seeds", type=int, nargs="+", help="override the seeds of the chosen experiments")
    parser.add_argument("--evaluate-only", action="store_true", help="do not train; evaluate finished runs")
    parser.add_argument("--export-pretrained", action="store_true",
                        help="write fmcnn/weights/lenet_bn.npz from runs/course_full_s0 and results/pretrained.json")
    args = parser.parse_args(argv)
    if args.list:
        for name, (_, seeds, what) in EXPERIMENTS.items():
            print(f"{name}: {what}\n    " + "\n    ".join(command(name, s) for s in seeds))
        return 0
    RESULTS.mkdir(exist_ok=True)
    if args.export_pretrained:
        export_pretrained()
        return 0
    names = args.experiments or list(EXPERIMENTS)
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown:
        parser.error(f"unknown experiment(s) {', '.join(unknown)}; choose from {', '.join(EXPERIMENTS)}")
    from fmcnn.data import load_fashion_mnist
    test_data = load_fashion_mnist("test")
    for name in names:
        seeds = args.seeds or EXPERIMENTS[name][1]
        runs = []
        for seed in seeds:
            if not args.evaluate_only:
                train_one(name, seed)
            if finished(name, seed):
                runs.append(evaluate_one(name, seed, test_data))
            elif (run_dir(name, seed) / "config.json").exists():
                print(f"[{name} seed {seed}] not finished, not evaluated ({run_dir(name, seed)})", flush=True)
        if not runs:
            continue
        path = RESULTS / f"{name}.json"
        if path.exists():   # keep seeds evaluated earlier that were not rerun now
            old = {r["seed"]: r for r in json.loads(path.read_text())["runs"]}
            old.update({r["seed"]: r for r in runs})
            runs = [old[s] for s in sorted(old)]
        summary = summarize(name, runs)
        path.write_text(json.dumps(summary, indent=2) + "\n")
        acc = summary["final_test_accuracy"]
        print(f"[{name}] test accuracy {acc['mean']:.4f} (min {acc['min']:.4f}, max {acc['max']:.4f}) "
              f"over seeds {summary['seeds']}; {summary['training_minutes']['mean']} min -> {path}", flush=True)
    write_summary()
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - t:.0f} s)")
    sys.exit(code)
