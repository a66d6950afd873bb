"""Training: recipes, the training loop, logs, checkpoints and exact resuming."""
import csv
import functools
import itertools
import json
import re
import shlex
import shutil
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .atomic import atomic_write, write_atomically
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .errors import FmcnnError
from .models import lenet_bn
from .nn import SoftmaxCrossEntropy
from .optim import SCHEDULES, SGD, Adam
from .preprocess import augment, to_input

LOG_FIELDS = ("step", "epoch", "loss", "accuracy", "lr", "seconds")
CHECKPOINT_NAME = re.compile(r"step_(\d+)\.npz")


class ConfigError(FmcnnError, ValueError):
    """A training configuration that is invalid, unreadable, or not the one a run was trained with."""


class RunError(FmcnnError, ValueError):
    """A run directory that cannot be continued as asked: a damaged log.csv, no such checkpoint."""


class DivergedError(FmcnnError, FloatingPointError):
    """The loss or the parameters became NaN or infinite; the checkpoints written before are intact."""


def option(default, help, choices=None):
    """A :class:`TrainConfig` field with its default, the help of its ``fmcnn train`` option
    and, if only some values are allowed, those ``choices`` (which the config checks)."""
    return field(default=default, metadata={"help": help} if choices is None else {"help": help, "choices": choices})


@dataclass
class TrainConfig:
    """Everything that defines a training run. Same config and seed, same numbers.

    augment: with ``shift`` > 0, move each training image by up to ``shift`` pixels
    in each direction; with ``flip``, mirror half of them (see
    :func:`fmcnn.preprocess.augment`). ``shift`` and ``flip`` matter only with ``augment``.

    width: multiplies LeNet-BN's channels and hidden units (see
    :func:`fmcnn.models.lenet_bn`); 1 is the course network.

    fused: run the network as :class:`fmcnn.fast.FusedLeNetBN`, the fast
    implementation of chapter 13 (it uses two cores), which is the default; False
    runs the layers of :mod:`fmcnn.nn` one by one, about twice as slow. Same
    model, parameters and checkpoints either way; gradients agree to 1e-9 in
    float64, so in float32 a run differs by rounding only.

    sampling: "epochs" shuffles the training set once per epoch and walks through
    it (every image seen once per epoch); "replacement" draws every batch
    independently at random, as the original NumPy LeNet project did.
    """

    # Each field's help and allowed values ("choices") live here once: `fmcnn train` makes its
    # options from them (see fmcnn.cli.add_config_options) and __post_init__ checks the choices.
    steps: int = option(5000, "training steps, one batch each")
    batch_size: int = option(64, "images per batch")
    optimizer: str = option("adam", "Adam, or SGD with momentum", choices=("adam", "sgd"))
    lr: float = option(2e-3, "learning rate, the peak of the schedule")
    momentum: float = option(0.9, "SGD's momentum; Adam ignores it")
    weight_decay: float = option(0.0, "L2 weight decay")
    schedule: str = option("cosine", "learning-rate schedule over the steps", choices=tuple(SCHEDULES))
    warmup_steps: int = option(0, "steps of linear warm-up at the start of the schedule")
    sampling: str = option("epochs", "'epochs': shuffle once per epoch and walk through the training set; "
                           "'replacement': draw every batch at random, as the original project did",
                           choices=("epochs", "replacement"))
    normalize: bool = option(True, "normalize the pixels with the training set's mean and standard deviation")
    augment: bool = option(False, "random shifts (of up to --shift pixels) and horizontal flips (unless --no-flip)")
    shift: int = option(2, "largest shift in pixels when augmenting, 0 for none, at most 8")
    flip: bool = option(True, "mirror half of the images when augmenting")
    seed: int = option(0, "random seed of the initial weights, the batches and the augmentation")
    checkpoint_every: int = option(1000, "write a checkpoint every this many steps and after the last")
    width: int = option(1, "multiply LeNet-BN's channels and hidden units by this whole number")
    fused: bool = option(True, "train with fmcnn.fast.FusedLeNetBN, the fast implementation of chapter 13 "
                         "(uses two cores); --no-fused runs fmcnn.nn's layers one by one, about twice as slow "
                         "(same model and checkpoints; results differ by float32 rounding)")

    def __post_init__(self):
        choices = {f.name: f.metadata["choices"] for f in fields(self) if "choices" in f.metadata}
        checks = {name: getattr(self, name) in allowed for name, allowed in choices.items()}
        checks.update({
            "steps": self.steps > 0,
            "batch_size": self.batch_size > 0,
            "lr": self.lr > 0,
            "checkpoint_every": self.checkpoint_every > 0,
            "width": isinstance(self.width, int) and self.width >= 1,
            "shift": isinstance(self.shift, int) and 0 <= self.shift <= 8,
        })
        bad = [name for name, ok in checks.items() if not ok]
        if bad:
            raise ConfigError(f"invalid training config value(s) for {', '.join(bad)}: "
                              + ", ".join(f"{b}={getattr(self, b)!r}" for b in bad) + "; "
                              + "; ".join(f"{name}: {', '.join(allowed)}" for name, allowed in choices.items())
                              + "; numbers must be positive.")

    @classmethod
    def from_dict(cls, d):
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


# The original NumPy LeNet project's recipe, reproduced for comparison.
ORIGINAL_RECIPE = dict(optimizer="sgd", lr=5e-4, momentum=0.9, schedule="constant",
                       sampling="replacement", normalize=False)
# The course's full training: the default recipe for 30 epochs (937 batches of 64 each), with
# random shifts of up to 1 pixel and flips, so that the network sees new variants of every garment.
# (15 epochs without augmentation reach about 0.905; see the going-further chapter and results/.)
FULL_RECIPE = dict(steps=30 * 937, augment=True, shift=1)
# Going further: a LeNet-BN three times as wide in every layer, 15 epochs, shifts of up to 1 pixel and flips.
WIDE_RECIPE = dict(steps=15 * 937, augment=True, shift=1, width=3)
RECIPES = {"course": {}, "original": ORIGINAL_RECIPE, "full": FULL_RECIPE, "wide": WIDE_RECIPE}


def make_optimizer(config, params):
    """The optimizer named by ``config.optimizer``, over ``params``."""
    if config.optimizer == "sgd":
        return SGD(params, config.lr, momentum=config.momentum, weight_decay=config.weight_decay)
    return Adam(params, config.lr, weight_decay=config.weight_decay)


def batch_indices(config, step, n):
    """Indices of the training examples in batch number ``step`` (0-based): (batch_size,).

    Randomness comes from generators seeded by (seed, epoch) or (seed, step),
    never from a generator that carries state between steps, so a run resumed
    from a checkpoint at step k draws exactly the batches it would have drawn.
    """
    b = config.batch_size
    if config.sampling == "replacement":
        return np.random.default_rng([config.seed, 1, step]).integers(0, n, size=b)
    per_epoch = n // b   # the last, incomplete batch of each epoch is dropped
    epoch, i = divmod(step, per_epoch)
    return epoch_order(config.seed, epoch, n)[i * b:(i + 1) * b]


@functools.lru_cache(maxsize=1)
def epoch_order(seed, epoch, n):
    """The shuffled order of the n training examples in ``epoch``: (n,).

    Cached, because every step of an epoch needs the same permutation and
    drawing it anew each step would cost more than a layer's forward pass.
    """
    order = np.random.default_rng([seed, 2, epoch]).permutation(n)
    order.flags.writeable = False   # shared by the cache: nobody may shuffle it in place
    return order


def read_config(run_dir):
    """The :class:`TrainConfig` saved in ``run_dir/config.json``.

    Raises FileNotFoundError if there is none and ConfigError (naming the file) if
    it is not a valid configuration, e.g. damaged or edited by hand.
    """
    path = Path(run_dir) / "config.json"
    try:
        saved = json.loads(path.read_text())
        if not isinstance(saved, dict):
            raise ValueError("not a JSON object")
        return TrainConfig.from_dict(saved)
    except (ValueError, TypeError) as e:   # TypeError: a value of the wrong type, such as "steps": "ten"
        raise ConfigError(f"{path} is not a valid training configuration ({e}). "
                          "Restore it, or train into another --out directory.") from None


def checkpoint_path(run_dir, step):
    return Path(run_dir) / "checkpoints" / f"step_{step:06d}.npz"


def list_checkpoints(run_dir):
    """Checkpoint files of a run, sorted by step: [(step, path), ...].

    Only names that fmcnn writes count (step_000020.npz), so a copy such as
    "step_000020 (copy).npz" is ignored rather than mistaken for a checkpoint.
    """
    paths = (Path(run_dir) / "checkpoints").glob("step_*.npz")
    return sorted((int(m[1]), p) for p in paths if (m := CHECKPOINT_NAME.fullmatch(p.name)))


def find_checkpoint(run_dir, name):
    """The ``(step, path)`` of the checkpoint of ``run_dir`` that ``name`` names: a step
    number (20), a file name (step_000020 or step_000020.npz) or the file's path."""
    checkpoints = list_checkpoints(run_dir)
    given = Path(str(name))
    m = re.fullmatch(r"(?:step_)?(\d+)(?:\.npz)?", given.name)
    for step, path in checkpoints:
        if m and int(m[1]) == step and (given.parent == Path(".") or given.resolve() == path.resolve()):
            return step, path
    names = ", ".join(p.stem for _, p in checkpoints) or "none"
    raise RunError(f"{run_dir} has no checkpoint {name} (its checkpoints: {names}); "
                   "--resume-from takes one of those.")


def train(config, run_dir=None, resume=False, data=None, progress=True, resume_from=None):
    """Train LeNet-BN with ``config`` and return ``(model, log)``.

    Args:
        config: a :class:`TrainConfig`.
        run_dir: where to write ``config.json``, ``log.csv`` (one row per step:
            step, epoch, loss, batch accuracy, learning rate, seconds) and
            ``checkpoints/step_XXXXXX.npz``. ``None`` writes nothing.
        resume: continue from the latest checkpoint in ``run_dir``; the result
            equals an uninterrupted run's. Without it, a ``run_dir`` that already
            holds a run is an error, so nothing is overwritten by accident.
        resume_from: resume from this checkpoint of ``run_dir`` instead of the latest
            (see :func:`find_checkpoint`), e.g. when the latest cannot be read; implies
            ``resume``. The later checkpoints are first moved, with a copy of ``log.csv``,
            into ``run_dir/set_aside/after_step_XXXXXX/``: nothing is deleted or overwritten.
        data: ``(images uint8 (N, 28, 28), labels (N,))``; defaults to the
            Fashion-MNIST training set.
        progress: show a progress bar.

    ``log`` is a dict of arrays, one entry per step (the ``LOG_FIELDS``).
    Raises DivergedError (a FloatingPointError) if the loss becomes NaN or
    infinite; checkpoints written before that stay intact. A checkpoint that
    cannot be read raises CheckpointError, naming the last readable one and the
    ``--resume-from`` option that resumes from it.
    """
    if data is None:
        from .data import load_fashion_mnist
        data = load_fashion_mnist("train")
    images, labels = data
    images = np.asarray(images)
    to_input(images[:1], config.normalize)   # bad images fail here, before a run directory is written
    y_all = np.asarray(labels).astype(np.int64)
    n = len(images)
    if config.sampling == "epochs" and n < config.batch_size:
        raise ConfigError(f"{n} training images are fewer than one batch of {config.batch_size}; "
                          "choose a smaller --batch-size.")

    model = lenet_bn(seed=config.seed, width=config.width)
    model["conv1"].input_grad = False   # nobody needs d(loss)/d(images) while training: skip its col2im
    net = model   # what runs forward and backward; model holds the parameters
    if config.fused:
        from .fast import FusedLeNetBN    # imported only here: it starts a helper thread and an at-fork hook
        net = FusedLeNetBN(model)
    optimizer = make_optimizer(config, model.parameters())
    loss_fn = SoftmaxCrossEntropy()
    lr_at = SCHEDULES[config.schedule]
    rows, start = [], 0
    if run_dir is not None:
        run_dir = Path(run_dir)
        start, rows = _prepare_run_dir(run_dir, config, resume or resume_from is not None, model, optimizer,
                                       resume_from)

    model.train()
    t0 = time.perf_counter() - (rows[-1]["seconds"] if rows else 0.0)
    bar = tqdm(range(start, config.steps), initial=start, total=config.steps, disable=not progress,
               desc="training", unit="step", mininterval=0.5)
    for step in bar:
        idx = batch_indices(config, step, n)
        # Converted batch by batch: the same numbers as converting the whole set first,
        # without holding a float32 copy of it (188 MB for Fashion-MNIST) or waiting for one.
        x = to_input(images[idx], config.normalize)
        if config.augment:
            x = augment(x, np.random.default_rng([config.seed, 3, step]), max_shift=config.shift, flip=config.flip)
        optimizer.lr = lr_at(step, config.steps, config.lr, config.warmup_steps)
        optimizer.zero_grad()
        logits = net.forward(x)
        loss = loss_fn.forward(logits, y_all[idx])
        if not np.isfinite(loss):
            saved = list_checkpoints(run_dir) if run_dir is not None else []
            where = f"the last good checkpoint, {saved[-1][1]}, is intact" if saved else "no checkpoint was written"
            raise DivergedError(f"the loss became {loss} at step {step + 1}; {where}. "
                                "Lower the learning rate (or use normalized inputs) and train again.")
        net.backward(loss_fn.backward())
        optimizer.step()
        rows.append(dict(step=step + 1, epoch=(step * config.batch_size) // n, loss=loss,
                         accuracy=float(np.mean(logits.argmax(axis=1) == y_all[idx])),
                         lr=optimizer.lr, seconds=time.perf_counter() - t0))
        if progress and (step + 1) % 50 == 0:
            bar.set_postfix(loss=f"{np.mean([r['loss'] for r in rows[-50:]]):.3f}")
        done = step + 1
        if run_dir is not None and (done % config.checkpoint_every == 0 or done == config.steps):
            _write_checkpoint(run_dir, model, optimizer, config, done, rows)
    bar.close()
    log = {k: np.array([r[k] for r in rows]) for k in LOG_FIELDS}
    return model, log


def _prepare_run_dir(run_dir, config, resume, model, optimizer, resume_from=None):
    """Create or reopen ``run_dir``; returns (start step, log rows so far).

    Everything that can fail (a run already there, another configuration, an
    unreadable checkpoint or log) is checked before anything is written.
    """
    config_path = run_dir / "config.json"
    existing = list_checkpoints(run_dir)
    if config_path.exists() and not resume:
        raise FileExistsError(f"{run_dir} already holds a training run. Use --resume to continue it, "
                              "or choose another --out directory.")
    if config_path.exists():
        _check_same_config(run_dir, read_config(run_dir), config)
    elif resume_from is not None:
        raise RunError(f"{run_dir} holds no training run (no config.json), so there is nothing to resume; "
                       "leave out --resume-from to start one.")
    step, rows, later = 0, [], []
    if existing or resume_from is not None:
        step, path = find_checkpoint(run_dir, resume_from) if resume_from is not None else existing[-1]
        _load_resume_point(run_dir, step, path, existing, model, optimizer)
        rows = [r for r in _read_log(run_dir) if r["step"] <= step]
        later = [p for s, p in existing if s > step]
    run_dir.mkdir(parents=True, exist_ok=True)
    if later:
        folder = _set_aside(run_dir, step, later)
        print(f"Resuming {run_dir} from step {step}: moved {', '.join(p.name for p in later)}, "
              f"with a copy of log.csv, into {folder} (nothing was deleted).")
    write_atomically(config_path, json.dumps(asdict(config), indent=2) + "\n")
    _write_log(run_dir, rows)   # rows logged after the checkpoint will be recomputed identically
    return step, rows


def _check_same_config(run_dir, saved, config):
    """Raise ConfigError, naming every difference, unless ``config`` is ``saved`` (except for steps)."""
    diff = [f"{k} {v!r} (saved) vs {getattr(config, k)!r} (requested)"
            for k, v in asdict(saved).items() if k != "steps" and getattr(config, k) != v]
    if diff:
        raise ConfigError(f"{run_dir} was trained with a different configuration: {', '.join(diff)}. "
                          "Resume with the same options (only --steps may grow), or train into another --out.")


def _load_resume_point(run_dir, step, path, checkpoints, model, optimizer):
    """Load checkpoint ``path`` (of ``step``) into model and optimizer. If it cannot be read, the
    CheckpointError also names the last readable earlier checkpoint and how to resume from it."""
    try:
        load_checkpoint(path, model, optimizer)
    except CheckpointError as e:
        earlier = _last_readable([c for c in checkpoints if c[0] < step], model, optimizer)
        raise CheckpointError(f"{e} {_resume_from_hint(run_dir, earlier, checkpoints)}") from None


def _last_readable(checkpoints, model, optimizer):
    """The last of ``checkpoints`` that loads into model and optimizer, as (step, path); None if none does."""
    for step, path in reversed(checkpoints):
        try:
            load_checkpoint(path, model, optimizer)
            return step, path
        except CheckpointError:
            continue
    return None


def _resume_from_hint(run_dir, earlier, checkpoints):
    """What to do when a run cannot resume from its checkpoint: the exact --resume-from option, and
    what it does with the later files."""
    if earlier is None:
        return (f"No earlier checkpoint of {run_dir} can be read either: train into another --out directory "
                "(this run is left as it is).")
    step, path = earlier
    later = ", ".join(p.name for s, p in checkpoints if s > step)
    return (f"The last readable checkpoint is {path.name}: to resume from it, run "
            f"`fmcnn train --out {shlex.quote(str(run_dir))} --resume-from {path.stem}` (with any other options "
            f"you gave). That first moves the later checkpoints ({later}), with a copy of log.csv, into "
            f"{run_dir / 'set_aside'}/, so nothing is deleted or overwritten.")


def _set_aside(run_dir, step, later):
    """Move the checkpoint files ``later`` (all after ``step``), with a copy of log.csv, into a new folder
    ``run_dir/set_aside/after_step_XXXXXX[_N]``, where list_checkpoints no longer sees them: resuming
    from an earlier checkpoint then rewrites those steps without deleting or overwriting a file."""
    base = run_dir / "set_aside" / f"after_step_{step:06d}"
    candidates = itertools.chain([base], (base.with_name(f"{base.name}_{n}") for n in itertools.count(2)))
    folder = next(f for f in candidates if not f.exists())
    (folder / "checkpoints").mkdir(parents=True)
    if (run_dir / "log.csv").exists():
        shutil.copy2(run_dir / "log.csv", folder / "log.csv")   # a copy: the run keeps its log until it is rewritten
    for path in later:
        path.replace(folder / "checkpoints" / path.name)
    return folder


def _write_checkpoint(run_dir, model, optimizer, config, step, rows):
    if not all(np.isfinite(p.data).all() for p in model.parameters()):
        raise DivergedError(f"parameters became NaN or infinite by step {step}; earlier checkpoints are intact. "
                            "Lower the learning rate and train again.")
    # The log first: a crash between the two writes then leaves a log that covers every checkpoint
    # (resuming drops the rows after the checkpoint it loads), never a checkpoint whose rows are missing.
    _write_log(run_dir, rows)
    save_checkpoint(checkpoint_path(run_dir, step), model, optimizer,
                    meta={"step": step, "config": asdict(config)})


def _write_log(run_dir, rows):
    # atomic_write fsyncs the log: it is on disk before the checkpoint that follows it.
    with atomic_write(run_dir / "log.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=LOG_FIELDS)
        writer.writeheader()
        for r in rows:
            writer.writerow(r)   # floats are written in full (repr), so a resumed log equals an uninterrupted one


def _read_log(run_dir):
    """The rows of ``run_dir/log.csv``; FileNotFoundError or RunError (naming the file) if it is missing or damaged."""
    path = run_dir / "log.csv"
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            return [dict(step=int(r["step"]), epoch=int(r["epoch"]), loss=float(r["loss"]),
                         accuracy=float(r["accuracy"]), lr=float(r["lr"]), seconds=float(r["seconds"])) for r in reader]
    except FileNotFoundError:
        raise FileNotFoundError(f"No training log at {path}; train with `fmcnn train --out {run_dir}` first.") from None
    except (KeyError, ValueError, TypeError, csv.Error) as e:   # a missing column, a cut-off or garbled row
        raise RunError(f"{path} is damaged (line {reader.line_num}: {type(e).__name__}: {e}). "
                       "Restore it, or train again into another --out directory.") from None


def read_log(run_dir):
    """A run's ``log.csv`` as a dict of arrays (see :func:`train`)."""
    rows = _read_log(Path(run_dir))
    return {k: np.array([r[k] for r in rows]) for k in LOG_FIELDS}
