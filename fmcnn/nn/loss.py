"""Softmax followed by cross-entropy, fused for numerical stability."""
import numpy as np

from .module import check_input


def softmax(logits):
    """Row-wise softmax, computed stably: (N, K) -> probabilities (N, K), same dtype.

    Subtracting each row's maximum changes nothing mathematically but keeps exp() from overflowing.
    """
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class SoftmaxCrossEntropy:
    """Mean cross-entropy of softmax(logits) against integer labels.

    loss = -(1/N) * sum_n log softmax(z_n)[y_n], and its gradient is the
    famously simple d(loss)/dz = (softmax(z) - onehot(y)) / N.

    Shapes: logits (N, K) float, labels (N,) integers in [0, K).
    """

    def __call__(self, logits, labels):
        return self.forward(logits, labels)

    def forward(self, logits, labels):
        """Return the mean loss as a Python float; caches the probabilities for backward."""
        check_input(logits, 2, "SoftmaxCrossEntropy", "(N, num_classes)")
        labels = np.asarray(labels)
        if labels.shape != (logits.shape[0],) or labels.dtype.kind not in "iu":
            raise ValueError(f"SoftmaxCrossEntropy expects integer labels of shape ({logits.shape[0]},), "
                             f"got {labels.dtype} array of shape {labels.shape}.")
        if labels.size and (labels.min() < 0 or labels.max() >= logits.shape[1]):
            raise ValueError(f"labels must lie in [0, {logits.shape[1]}), got values from "
                             f"{labels.min()} to {labels.max()}.")
        # Subtracting the row maximum changes nothing mathematically but keeps exp() from overflowing.
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        n = np.arange(logits.shape[0])
        self._probs, self._labels = np.exp(log_probs), labels
        return float(-log_probs[n, labels].mean())

    def backward(self):
        """Return d(loss)/d(logits): (N, K)."""
        grad = self._probs.copy()
        grad[np.arange(grad.shape[0]), self._labels] -= 1
        return grad / grad.shape[0]
