"""Evaluating trained models on the official Fashion-MNIST test set."""
import json
from pathlib import Path

import numpy as np

from .checkpoint import load_checkpoint
from .metrics import accuracy, confusion_matrix, per_class_accuracy, predict_logits
from .models import lenet_bn
from .preprocess import to_input
from .train import list_checkpoints


def load_model(path):
    """LeNet-BN with the weights of checkpoint ``path``, in evaluation mode; returns (model, meta).

    The network's width is read from the configuration saved in the checkpoint.
    """
    model = lenet_bn(width=_saved_width(path))
    meta = load_checkpoint(path, model)
    return model.eval(), meta


def _saved_width(path):
    try:
        with np.load(path, allow_pickle=False) as f:
            meta = json.loads(str(f["meta"])) if "meta" in f.files else {}
    except (OSError, ValueError, EOFError):
        return 1   # load_checkpoint reports the problem with a clear message
    return int(meta.get("config", {}).get("width", 1))


def evaluate_model(model, images, labels, normalize=True):
    """Accuracy and confusion matrix of ``model`` (eval mode) on uint8 ``images`` (N, 28, 28)."""
    pred = predict_logits(model, to_input(images, normalize)).argmax(axis=1)
    return accuracy(labels, pred), confusion_matrix(labels, pred)


def evaluate_run(run_dir, data=None):
    """Evaluate every checkpoint of a run: returns [(step, accuracy, confusion matrix), ...].

    Each checkpoint's inputs are preprocessed as its run was trained (normalized or not).
    """
    checkpoints = list_checkpoints(run_dir)
    if not checkpoints:
        raise FileNotFoundError(f"No checkpoints in {Path(run_dir) / 'checkpoints'}; train with `fmcnn train --out {run_dir}` first.")
    if data is None:
        from .data import load_fashion_mnist
        data = load_fashion_mnist("test")
    results = []
    for step, path in checkpoints:
        model, meta = load_model(path)
        acc, cm = evaluate_model(model, *data, normalize=meta.get("config", {}).get("normalize", True))
        results.append((step, acc, cm))
    return results


def write_evaluation(run_dir, results):
    """Save the accuracy table as ``evaluation.json`` in the run directory."""
    table = [{"step": s, "test_accuracy": round(a, 4)} for s, a, _ in results]
    (Path(run_dir) / "evaluation.json").write_text(json.dumps(table, indent=2) + "\n")
    return table


def per_class_table(cm, class_names):
    """Lines 'class: accuracy' from a confusion matrix."""
    return [f"{name:<12} {r:.4f}" for name, r in zip(class_names, per_class_accuracy(cm))]
