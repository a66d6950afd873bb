"""Predictions and the numbers we judge them by."""
import numpy as np


def predict_logits(model, x, batch_size=1000):
    """Run ``model`` in evaluation mode over ``x`` (N, C, H, W) in batches; returns logits (N, K).

    The model's previous train/eval mode is restored afterwards.
    """
    was_training = model.training
    model.eval()
    try:
        return np.concatenate([model.forward(x[i:i + batch_size]) for i in range(0, len(x), batch_size)])
    finally:
        model.train(was_training)


def accuracy(y_true, y_pred):
    """Fraction of predictions equal to the labels. y_true, y_pred: (N,) integers."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"labels {y_true.shape} and predictions {y_pred.shape} differ in shape")
    return float(np.mean(y_true == y_pred))


def confusion_matrix(y_true, y_pred, num_classes=10):
    """Counts C[i, j] of examples of true class i predicted as class j: (K, K) int64.

    One ``bincount`` over the pair index i * K + j (in int64, so uint8 labels cannot overflow)
    does the counting.
    """
    pairs = np.asarray(y_true).astype(np.int64) * num_classes + np.asarray(y_pred)
    return np.bincount(pairs, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_accuracy(cm):
    """Recall of each class from a confusion matrix: diagonal over row sums, (K,)."""
    cm = np.asarray(cm)
    return cm.diagonal() / np.maximum(cm.sum(axis=1), 1)


def most_confused_pairs(cm, class_names, top=5):
    """The ``top`` off-diagonal cells of ``cm`` as (true name, predicted name, count), largest first."""
    off = np.array(cm, copy=True)
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None, kind="stable")[::-1][:top]
    return [(class_names[i], class_names[j], int(off[i, j])) for i, j in zip(*np.unravel_index(order, off.shape))]
