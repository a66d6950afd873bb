import numpy as np
import pytest

from fmcnn.gradcheck import check_loss
from fmcnn.nn import SoftmaxCrossEntropy


def test_value_matches_definition():
    logits = np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    labels = np.array([2, 0])
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    assert np.isclose(SoftmaxCrossEntropy()(logits, labels), -np.mean(np.log(p[[0, 1], labels])))


def test_gradient():
    rng = np.random.default_rng(0)
    assert check_loss(SoftmaxCrossEntropy(), rng.standard_normal((5, 10)), rng.integers(0, 10, 5)) < 1e-7


def test_large_logits_do_not_overflow():
    loss = SoftmaxCrossEntropy()(np.array([[1000.0, 0.0]], np.float32), np.array([1]))
    assert np.isclose(loss, 1000.0)


@pytest.mark.parametrize("labels,match", [(np.array([0, 10]), r"\[0, 10\)"), (np.array([0.0, 1.0]), "integer"),
                                          (np.array([1]), "shape")])
def test_bad_labels_are_explained(labels, match):
    with pytest.raises(ValueError, match=match):
        SoftmaxCrossEntropy()(np.zeros((2, 10), np.float32), labels)
