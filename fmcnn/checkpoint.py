"""Saving and loading training state as plain ``.npz`` files (no pickle)."""
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .errors import FmcnnError
from .nn.module import state_mismatches

FORMAT = "fmcnn-checkpoint-v1"
# What reading a damaged .npz raises: zipfile's errors for a truncated or altered archive
# (BadZipFile: no end of archive, bad CRC), EOFError and ValueError for a damaged or pickled
# array inside it, RuntimeError for an encrypted or unsupported zip, OSError for an unreadable file.
_UNREADABLE = (zipfile.BadZipFile, zlib.error, EOFError, ValueError, RuntimeError, OSError)
# What load_checkpoint says a mismatched file probably is, by what it was to be loaded into.
_MISMATCH_HINT = {"model": "Was it saved from a different architecture (another --width)?",
                  "optimizer": "Was it saved by a run with another optimizer?"}


class CheckpointError(FmcnnError, ValueError):
    """A checkpoint file that cannot be used: unreadable (truncated, not a zip), not an fmcnn
    checkpoint, or holding arrays that do not fit the model or optimizer (missing, mis-shaped,
    not numbers, NaN or infinite). The message names the file."""


def save_checkpoint(path, model, optimizer=None, meta=None):
    """Write the model's parameters and BatchNorm running statistics (and, if given,
    the optimizer state and a JSON-serializable ``meta`` dict) to ``path``.

    The file is written with :func:`fmcnn.atomic.atomic_write` (a temporary file in the same
    folder, fsynced, then renamed), so a crash mid-write never leaves a half-written checkpoint
    under ``path``.
    """
    path = Path(path)
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    arrays["format"] = np.array(FORMAT)
    arrays["meta"] = np.array(json.dumps(meta or {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def read_checkpoint(path):
    """The arrays and the ``meta`` dict of the checkpoint file ``path``: ``({name: array}, meta)``.

    Raises FileNotFoundError if there is no such file, and :class:`CheckpointError` if it
    is not a readable fmcnn checkpoint. The file is opened with ``allow_pickle=False``:
    reading a checkpoint can never run code.
    """
    path = Path(path)
    try:
        # Opened here, not by np.load, which leaves its file open when the zip is bad.
        with open(path, "rb") as file:
            loaded = np.load(file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("it holds a single .npy array, not an .npz archive")
            with loaded as f:
                arrays = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"No checkpoint at {path}.") from None
    except _UNREADABLE as e:
        raise CheckpointError(f"{path} is not a readable .npz checkpoint ({e}). "
                              "It may be truncated or another kind of file; use a checkpoint written by fmcnn.") from None
    fmt = str(arrays.get("format", "<none>"))
    if fmt != FORMAT:
        raise CheckpointError(f"{path} has checkpoint format {fmt!r}, but this version of fmcnn reads {FORMAT!r}. "
                              "Use a checkpoint written by `fmcnn train` or fmcnn.checkpoint.save_checkpoint.")
    try:
        meta = json.loads(str(arrays["meta"]))
    except (KeyError, ValueError):
        meta = None
    if not isinstance(meta, dict) or not isinstance(meta.get("config", {}), dict):
        raise CheckpointError(f"{path} has no valid 'meta' entry (a JSON object); the file is damaged. "
                              "Use a checkpoint written by fmcnn.")
    return arrays, meta


def load_checkpoint(path, model, optimizer=None):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns the ``meta`` dict. Raises :class:`CheckpointError` (a ValueError) naming the
    file if it is not a readable fmcnn checkpoint, or if its arrays do not fit the model
    (or optimizer): missing, unexpected or mis-shaped entries (all listed), arrays that
    are not numbers, NaN or infinite values. Everything is checked before anything is
    copied, so a bad file never loads half-way.
    """
    arrays, meta = read_checkpoint(path)
    load_arrays(path, arrays, model, optimizer)
    return meta


def load_arrays(path, arrays, model, optimizer=None):
    """Copy the arrays of checkpoint ``path``, as :func:`read_checkpoint` returns them, into
    ``model`` (and ``optimizer``), checking all of them first (see :func:`load_checkpoint`)."""
    parts = [("model", "model/", model)] + ([("optimizer", "optim/", optimizer)] if optimizer is not None else [])
    states = {what: _section(arrays, prefix) for what, prefix, _ in parts}
    if optimizer is not None and not states["optimizer"]:
        raise CheckpointError(f"{path} holds no optimizer state, so training cannot resume exactly from it.")
    for what, _, owner in parts:
        _check_state(path, what, owner.state_dict(), states[what])
    for what, _, owner in parts:
        owner.load_state_dict(states[what])


def _section(arrays, prefix):
    """The arrays whose names start with ``prefix``, without it."""
    return {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}


def _check_state(path, what, targets, state):
    """Raise CheckpointError unless ``state`` can be copied into ``targets``, the arrays of the ``what``."""
    lines = state_mismatches(targets, state, what)
    if lines:
        raise CheckpointError(f"{path} does not match the {what}: {'; '.join(lines)}. {_MISMATCH_HINT[what]}")
    wrong_type = [f"{n} is {state[n].dtype}, not {targets[n].dtype}" for n in targets
                  if not np.can_cast(state[n].dtype, targets[n].dtype, "same_kind")]
    not_finite = [f"{n} holds NaN or infinite values" for n in targets
                  if state[n].dtype.kind in "fc" and not np.isfinite(state[n]).all()]
    if wrong_type or not_finite:
        raise CheckpointError(f"{path} is damaged ({what} state: {'; '.join(wrong_type + not_finite)}). "
                              "Use an earlier checkpoint of the run, or another file written by fmcnn.")
