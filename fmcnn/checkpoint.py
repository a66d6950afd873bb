"""Saving and loading training state as plain ``.npz`` files (no pickle)."""
import json
import os
import tempfile
from pathlib import Path

import numpy as np

FORMAT = "fmcnn-checkpoint-v1"


def save_checkpoint(path, model, optimizer=None, meta=None):
    """Write the model's parameters and BatchNorm running statistics (and, if given,
    the optimizer state and a JSON-serializable ``meta`` dict) to ``path``.

    The file is written to a temporary name in the same folder and then renamed,
    so a crash mid-write never leaves a half-written checkpoint under ``path``.
    """
    path = Path(path)
    arrays = {f"model/{k}": v for k, v in model.state_dict().items()}
    if optimizer is not None:
        arrays.update({f"optim/{k}": np.asarray(v) for k, v in optimizer.state_dict().items()})
    arrays["format"] = np.array(FORMAT)
    arrays["meta"] = np.array(json.dumps(meta or {}))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def load_checkpoint(path, model, optimizer=None):
    """Load a checkpoint written by :func:`save_checkpoint` into ``model`` (and ``optimizer``).

    Returns the ``meta`` dict. Raises ValueError for a file that is not an fmcnn
    checkpoint or that does not match the model (listing the mismatched names
    and shapes). Files are opened with ``allow_pickle=False``: loading a
    checkpoint can never run code.
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except FileNotFoundError:
        raise FileNotFoundError(f"No checkpoint at {path}.") from None
    except (ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path} is not a readable .npz checkpoint ({e}). "
                         "It may be truncated or another kind of file; use a checkpoint written by fmcnn.") from None
    fmt = str(data.get("format", "<none>"))
    if fmt != FORMAT:
        raise ValueError(f"{path} has checkpoint format {fmt!r}, but this version of fmcnn reads {FORMAT!r}. "
                         "Use a checkpoint written by `fmcnn train` or fmcnn.checkpoint.save_checkpoint.")
    model.load_state_dict({k[len("model/"):]: v for k, v in data.items() if k.startswith("model/")})
    if optimizer is not None:
        state = {k[len("optim/"):]: v for k, v in data.items() if k.startswith("optim/")}
        if not state:
            raise ValueError(f"{path} holds no optimizer state, so training cannot resume exactly from it.")
        optimizer.load_state_dict(state)
    return json.loads(str(data["meta"]))
