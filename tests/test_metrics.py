import numpy as np

from fmcnn.metrics import accuracy, confusion_matrix, most_confused_pairs, per_class_accuracy


def test_confusion_matrix_counts_pairs():
    cm = confusion_matrix([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2], num_classes=3)
    np.testing.assert_array_equal(cm, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    np.testing.assert_allclose(per_class_accuracy(cm), [0.5, 1.0, 2 / 3])
    assert accuracy([0, 0, 1, 2, 2, 2], [0, 1, 1, 2, 0, 2]) == 4 / 6
    assert most_confused_pairs(cm, ["a", "b", "c"], top=1) == [("c", "a", 1)] or \
        most_confused_pairs(cm, ["a", "b", "c"], top=1) == [("a", "b", 1)]


def test_confusion_matrix_of_uint8_labels_does_not_overflow():
    y = np.array([29, 29, 0], np.uint8)                          # 29 * 30 + 29 > 255
    cm = confusion_matrix(y, np.array([29, 1, 0], np.uint8), num_classes=30)
    assert cm.shape == (30, 30) and cm[29, 29] == 1 and cm[29, 1] == 1 and cm[0, 0] == 1 and cm.sum() == 3
