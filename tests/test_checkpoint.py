import io

import numpy as np
import pytest

from fmcnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from fmcnn.models import lenet_bn
from fmcnn.nn import BatchNorm2D, Conv2D, Sequential
from fmcnn.optim import Adam


def test_round_trip_keeps_parameters_running_statistics_and_optimizer(tmp_path):
    model = lenet_bn(seed=0)
    model(np.random.default_rng(0).standard_normal((4, 1, 28, 28)).astype(np.float32))   # moves BN statistics
    opt = Adam(model.parameters())
    for p in model.parameters():
        p.grad[...] = 1
    opt.step()
    save_checkpoint(tmp_path / "c.npz", model, opt, meta={"step": 1})
    other = lenet_bn(seed=1)
    other_opt = Adam(other.parameters())
    assert load_checkpoint(tmp_path / "c.npz", other, other_opt) == {"step": 1}
    assert not np.array_equal(other["bn1"].running_mean, np.zeros(6))
    for k, v in model.state_dict().items():
        assert np.array_equal(v, other.state_dict()[k]), k
    assert other_opt.t == 1 and np.array_equal(other_opt.m[0], opt.m[0])


def test_mismatched_model_lists_names_and_shapes(tmp_path):
    save_checkpoint(tmp_path / "c.npz", Sequential(Conv2D(1, 4, 3, rng=0), BatchNorm2D(4)))
    with pytest.raises(ValueError, match=r"conv1.weight: checkpoint \(4, 1, 3, 3\) vs model \(6, 1, 5, 5\)"):
        load_checkpoint(tmp_path / "c.npz", lenet_bn())


def test_unknown_format_and_garbage_are_explained(tmp_path):
    np.savez(tmp_path / "other.npz", weights=np.zeros(3))
    with pytest.raises(ValueError, match="checkpoint format '<none>'"):
        load_checkpoint(tmp_path / "other.npz", lenet_bn())
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="not a readable .npz"):
        load_checkpoint(tmp_path / "junk.npz", lenet_bn())
    with pytest.raises(FileNotFoundError, match="No checkpoint"):
        load_checkpoint(tmp_path / "missing.npz", lenet_bn())


def test_checkpoints_never_need_pickle(tmp_path):
    save_checkpoint(tmp_path / "c.npz", lenet_bn(), meta={"note": "x"})
    with np.load(tmp_path / "c.npz", allow_pickle=False) as f:
        assert all(f[k].dtype != object for k in f.files)


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def boom(*a, **k):
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError):
        save_checkpoint(tmp_path / "c.npz", lenet_bn())
    assert list(tmp_path.iterdir()) == []


def _damaged(path, **changes):
    """A copy of checkpoint ``path`` with arrays replaced (a value) or removed (None)."""
    with np.load(path, allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    for name, value in changes.items():
        if value is None:
            del arrays[name]
        else:
            arrays[name] = value
    out = path.with_name("damaged.npz")
    np.savez(out, **arrays)
    return out


def _npy_bytes(array):
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def _nan_weights(shape):
    w = np.zeros(shape, np.float32)
    w.flat[3] = np.nan
    return w


# Each way a checkpoint can be damaged, and the words that the error must use for it.
DAMAGE = {
    "truncated": (lambda p: p.with_name("damaged.npz").write_bytes(p.read_bytes()[:1000]), "not a readable .npz"),
    "empty": (lambda p: p.with_name("damaged.npz").write_bytes(b""), "not a readable .npz"),
    "a single .npy array": (lambda p: p.with_name("damaged.npz").write_bytes(_npy_bytes(np.zeros(3))), "single .npy"),
    "no meta": (lambda p: _damaged(p, meta=None), "no valid 'meta'"),
    "meta not JSON": (lambda p: _damaged(p, meta=np.array("{oops")), "no valid 'meta'"),
    "missing array": (lambda p: _damaged(p, **{"model/fc3.bias": None}), "missing from the checkpoint: fc3.bias"),
    "wrong shape": (lambda p: _damaged(p, **{"model/fc3.bias": np.zeros(9, np.float32)}),
                    r"fc3.bias: checkpoint \(9,\) vs model \(10,\)"),
    "wrong dtype": (lambda p: _damaged(p, **{"model/fc3.bias": np.array(["x"] * 10)}), "fc3.bias is <U1, not float32"),
    "NaN parameter": (lambda p: _damaged(p, **{"model/conv1.weight": _nan_weights((6, 1, 5, 5))}),
                      "conv1.weight holds NaN or infinite"),
    "infinite statistic": (lambda p: _damaged(p, **{"model/bn1.running_var": np.full(6, np.inf, np.float32)}),
                           "bn1.running_var holds NaN or infinite"),
    "optimizer state missing": (lambda p: _damaged(p, **{"optim/m.3": None}), "missing from the checkpoint: m.3"),
    "optimizer state NaN": (lambda p: _damaged(p, **{"optim/v.13": np.full(10, np.nan, np.float32)}),
                            "v.13 holds NaN or infinite"),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_checkpoint_is_a_clear_error_naming_the_file_and_loads_nothing(tmp_path, damage):
    make, words = DAMAGE[damage]
    model = lenet_bn(seed=0)
    save_checkpoint(tmp_path / "good.npz", model, Adam(model.parameters()), meta={"step": 1})
    make(tmp_path / "good.npz")
    target = lenet_bn(seed=1)
    target_opt = Adam(target.parameters())
    before = target.state_dict()
    with pytest.raises(CheckpointError, match=words) as e:
        load_checkpoint(tmp_path / "damaged.npz", target, target_opt)
    assert str(tmp_path / "damaged.npz") in str(e.value) and isinstance(e.value, ValueError)
    for name, value in target.state_dict().items():   # checked before copying: nothing loaded half-way
        assert np.array_equal(value, before[name]), name
    assert target_opt.t == 0
