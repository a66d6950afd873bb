"""fmcnn.check: the verdicts a student sees in a notebook."""
import numpy as np
import pytest

import fmcnn
from fmcnn.exercises import EXERCISES, check
from fmcnn.exercises import reference as R


def test_fmcnn_check_is_exported():
    assert fmcnn.check is check


def test_all_passed(capsys):
    result = fmcnn.check("conv_forward", R.conv_forward)
    out = capsys.readouterr().out
    assert result.passed and result.score == 3 and result.n_passed == 6
    assert out.startswith("conv_forward: all 6 cases passed.") and out.count("✓") == 6
    assert repr(result) == "<CheckResult conv_forward: 6/6 cases passed, score 3/3>"


def test_not_implemented(capsys):
    def conv_forward(x, w, b, stride, padding):
        raise NotImplementedError

    result = check("conv_forward", conv_forward)
    assert result.not_implemented and not result.passed and result.score == 0
    assert capsys.readouterr().out.startswith("conv_forward: not implemented yet.")


def test_each_kind_of_failure_is_described(capsys):
    def conv_forward(x, w, b, stride, padding):
        out = R.conv_forward(x, w, b, stride, padding)
        if padding == 1 and stride == 1:
            return out[:, :, 1:]                                  # wrong shape
        if x.dtype == np.float32:
            return out.astype(np.float64)                         # wrong dtype
        if stride == 2 and padding == 1:
            out[0, 1, 2, 0] += 0.5                                # one wrong value
        if x.shape[0] == 1:
            return out[5]                                         # exception
        return out

    result = check("conv_forward", conv_forward)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == "conv_forward: 2 of 6 cases passed."
    assert "wrong shape: got (2, 3, 4, 6), expected (2, 3, 5, 6)" in lines[2]
    assert "out: largest error 0.5 at index (0, 1, 2, 0)" in lines[3]
    assert "raised IndexError: index 5 is out of bounds" in lines[4] and "return out[5]" in lines[4]
    assert "wrong dtype: got float64, expected float32" in lines[5]
    assert result.score == 1 and not result.passed
    # Deterministic, short, and never a whole array.
    check("conv_forward", conv_forward)
    assert capsys.readouterr().out == text
    assert "[[" not in text and max(map(len, lines)) < 300


def test_partly_implemented_reports_not_implemented_cases(capsys):
    def relu_forward(x):
        if x.ndim == 4:
            raise NotImplementedError
        return np.maximum(x, 0)

    result = check("relu_forward", relu_forward)
    assert not result.not_implemented and result.n_passed == 2
    assert "raised NotImplementedError" in capsys.readouterr().out


def test_function_gets_copies_of_the_inputs():
    def relu_forward(x):
        x[x < 0] = 0                                              # in place, then return it
        return x

    assert check("relu_forward", relu_forward, verbose=False).passed
    assert (EXERCISES["relu_forward"].cases()[2].args[0] < 0).all()


def test_not_callable():
    with pytest.raises(TypeError, match="must be your function"):
        check("relu_forward", 3)


def test_a_question_says_right_or_not_yet_and_never_the_answer(capsys):
    def q_receptive_field():
        return 14

    assert check("q_receptive_field", q_receptive_field).passed
    assert capsys.readouterr().out == "q_receptive_field: right. Well done!\n"
    for wrong, verdict in [(13, "not the right answer yet."), ([14, 14], "give a single number"),
                           (None, "answer is None")]:
        result = check("q_receptive_field", lambda: wrong)
        out = capsys.readouterr().out
        assert not result.passed and result.score == 0 and verdict in out and "14" not in out.replace("[14, 14]", "")

    def q_receptive_field():
        raise NotImplementedError

    assert check("q_receptive_field", q_receptive_field).not_implemented
    assert capsys.readouterr().out.startswith("q_receptive_field: not answered yet.")


def test_overflow_warnings_stay_out_of_the_verdict(capsys, recwarn):
    def softmax(z):
        e = np.exp(z)                                             # overflows on the huge logits
        return e / e.sum(axis=1, keepdims=True)

    result = check("softmax", softmax)
    assert result.n_passed == 4 and "inf" in capsys.readouterr().out and not recwarn.list
