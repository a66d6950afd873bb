"""Evaluating trained models on the official Fashion-MNIST test set."""
import json
from pathlib import Path

from .checkpoint import CheckpointError, load_arrays, read_checkpoint
from .metrics import accuracy, confusion_matrix, per_class_accuracy, predict_logits
from .models import lenet_bn
from .preprocess import to_input
from .train import list_checkpoints


def load_model(path):
    """LeNet-BN with the weights of checkpoint ``path``, in evaluation mode; returns (model, meta).

    The network's width is read from the configuration saved in the checkpoint.
    Raises CheckpointError (naming the file) if it cannot be used.
    """
    arrays, meta = read_checkpoint(path)
    width = meta.get("config", {}).get("width", 1)
    if not (isinstance(width, int) and width >= 1):
        raise CheckpointError(f"{path} says its network has width {width!r}, not a whole number >= 1; "
                              "the file is damaged. Use a checkpoint written by fmcnn.")
    model = lenet_bn(width=width)
    load_arrays(path, arrays, model)
    return model.eval(), meta


def evaluate_model(model, images, labels, normalize=True):
    """Accuracy and confusion matrix of ``model`` (eval mode) on uint8 ``images`` (N, 28, 28)."""
    pred = predict_logits(model, to_input(images, normalize)).argmax(axis=1)
    return accuracy(labels, pred), confusion_matrix(labels, pred)


def evaluate_run(run_dir, data=None, skipped=None):
    """Evaluate every checkpoint of a run: returns [(step, accuracy, confusion matrix), ...].

    Each checkpoint's inputs are preprocessed as its run was trained (normalized or not).
    A checkpoint that cannot be read raises CheckpointError, unless ``skipped`` is a list:
    then ``(step, error)`` is appended to it and the other checkpoints are still evaluated
    (if none can be read, the error is raised all the same).
    """
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise FileNotFoundError(f"No checkpoints in {Path(run_dir) / 'checkpoints'}; train with `fmcnn train --out {run_dir}` first.")
    if data is None:
        from .data import load_fashion_mnist
        data = load_fashion_mnist("test")
    results = []
    for step, path in checkpoints:
        try:
            model, meta = load_model(path)
        except CheckpointError as e:
            if skipped is None:
                raise
            skipped.append((step, e))
            continue
        acc, cm = evaluate_model(model, *data, normalize=meta.get("config", {}).get("normalize", True))
        results.append((step, acc, cm))
    if not results:
        raise CheckpointError(f"None of the checkpoints of {run_dir} can be read; the last: {skipped[-1][1]}")
    return results


def write_evaluation(run_dir, results, skipped=()):
    """Save the accuracy table as ``evaluation.json`` in the run directory; each skipped
    checkpoint, as ``(step, error)``, has a null accuracy and the reason it was skipped."""
    table = [{"step": s, "test_accuracy": round(a, 4)} for s, a, _ in results]
    table += [{"step": s, "test_accuracy": None, "skipped": str(e)} for s, e in skipped]
    table.sort(key=lambda row: row["step"])
    (Path(run_dir) / "evaluation.json").write_text(json.dumps(table, indent=2) + "\n")
    return table


def per_class_table(cm, class_names):
    """Lines 'class: accuracy' from a confusion matrix."""
    return [f"{name:<12} {r:.4f}" for name, r in zip(class_names, per_class_accuracy(cm))]
