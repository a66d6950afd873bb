import numpy as np
import pytest

from fmcnn.checkpoint import load_checkpoint, save_checkpoint
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
