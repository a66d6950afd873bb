"""The case generators: the edge cases the issue asks for are really there."""
import numpy as np

from fmcnn.data.idx import encode_idx, parse_idx
from fmcnn.exercises import EXERCISES
from fmcnn.exercises.cases import Case
from fmcnn.exercises.compare import Tolerance

RNG = np.random.default_rng(0)


def test_encode_idx_round_trips_through_the_library_reader():
    for a in [np.arange(6, dtype=np.uint8).reshape(2, 3), np.array([-1.5, 2.0], dtype=np.float32),
              np.zeros((0, 4), dtype=np.int16)]:
        back = parse_idx(encode_idx(a))
        assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a)


def test_conv_cases_cover_stride_padding_batch_of_one_and_float32():
    for hidden in (False, True):
        cases = EXERCISES["conv_forward"].cases(hidden=hidden)
        paddings = [c.args[4] for c in cases]
        strides = [c.args[3] for c in cases]
        assert [p > 0 for p in paddings] == [False, True, True, True, False, False]
        assert 2 in strides and any(c.args[0].shape[0] == 1 for c in cases)
        assert any(c.args[0].dtype == np.float32 for c in cases)
        backward = EXERCISES["conv_backward"].cases(hidden=hidden)
        for f, b in zip(cases, backward):
            assert f.args[3:] == b.args[4:] and f.label.split(":")[0] == b.label.split(":")[0]
            assert b.args[0].shape == EXERCISES["conv_forward"].reference(*b.args[1:]).shape


def test_pool_cases_have_ties_and_overlapping_windows():
    for hidden in (False, True):
        cases = EXERCISES["maxpool_backward"].cases(hidden=hidden)
        assert all(c.args[2] >= 2 for c in cases)                          # every window has >= 4 inputs
        assert any(c.args[3] < c.args[2] for c in cases)                    # overlapping
        tie = next(c for c in cases if c.label.startswith("ties"))
        x = tie.args[1]
        windows = x.reshape(*x.shape[:2], x.shape[2] // 2, 2, x.shape[3] // 2, 2).transpose(0, 1, 2, 4, 3, 5)
        windows = windows.reshape(*windows.shape[:4], 4)
        assert ((windows == windows.max(axis=-1, keepdims=True)).sum(axis=-1) > 1).any()


def test_batchnorm_cases_three_training_three_evaluation():
    for name in ("batchnorm_forward", "batchnorm_backward"):
        assert [c.args[-1] for c in EXERCISES[name].cases(hidden=True)] == [True] * 3 + [False] * 3


def test_softmax_cases_include_huge_logits():
    z = EXERCISES["softmax"].cases(hidden=True)[1].args[0]
    with np.errstate(over="ignore", invalid="ignore"):
        assert not np.isfinite(np.exp(z)).all()


def test_a_case_with_its_own_tolerance_uses_it_whatever_its_inputs():
    own = Tolerance(1e-5, 1e-6)
    assert Case("x", (np.zeros(2, np.float32),)).precision == np.float32
    assert Case("x", (np.zeros(2),)).precision == np.float64
    assert Case("x", (np.zeros(2, np.float32),), own).precision is own
