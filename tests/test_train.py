import json

import numpy as np
import pytest

from fmcnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from fmcnn.models import lenet_bn
from fmcnn.train import LOG_FIELDS, ConfigError, RunError, TrainConfig, batch_indices, list_checkpoints, read_log, train


@pytest.fixture
def small_data(synthetic_train):
    """What these tests train on: the 500 synthetic images of tests/conftest.py, a set the network
    can learn; nothing here depends on the real images."""
    return synthetic_train


def cfg(**kw):
    return TrainConfig(**{"steps": 30, "batch_size": 32, "checkpoint_every": 10, **kw})


def test_same_seed_same_numbers(small_data):
    _, a = train(cfg(), data=small_data, progress=False)
    _, b = train(cfg(), data=small_data, progress=False)
    _, c = train(cfg(seed=1), data=small_data, progress=False)
    assert np.array_equal(a["loss"], b["loss"])
    assert not np.array_equal(a["loss"], c["loss"])


@pytest.mark.parametrize("sampling,augment,fused", [("epochs", False, True), ("replacement", False, True),
                                                    ("epochs", True, True), ("epochs", False, False)])
def test_resume_equals_an_uninterrupted_run(tmp_path, small_data, sampling, augment, fused):
    config = cfg(sampling=sampling, augment=augment, fused=fused)
    full_model, full_log = train(config, tmp_path / "full", data=small_data, progress=False)
    # Simulate a crash after step 20: keep only the first two checkpoints and the log so far.
    partial = tmp_path / "partial"
    train(config, partial, data=small_data, progress=False)
    (partial / "checkpoints" / "step_000030.npz").unlink()
    resumed_model, resumed_log = train(config, partial, resume=True, data=small_data, progress=False)
    assert np.array_equal(full_log["loss"], resumed_log["loss"])
    for (name, a), (_, b) in zip(full_model.state_dict().items(), resumed_model.state_dict().items()):
        assert np.array_equal(a, b), name
    assert len(read_log(partial)["step"]) == 30


class Crash(Exception):
    """A crash of the training process, simulated."""


@pytest.mark.parametrize("when", ["before", "after"])
def test_crash_around_a_checkpoint_write_then_resume_logs_every_step_once(tmp_path, small_data, monkeypatch, when):
    """Issue 17: the process dies just before or just after the second checkpoint (step 20) reaches disk.
    Every checkpoint left on disk must have its log rows, and the resumed log must equal an uninterrupted one."""
    config = cfg()
    _, full_log = train(config, tmp_path / "full", data=small_data, progress=False)
    calls = []

    def save_then_crash(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 2 and when == "before":
            raise Crash
        save_checkpoint(path, *args, **kwargs)
        if len(calls) == 2:
            raise Crash

    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr("fmcnn.train.save_checkpoint", save_then_crash)
        with pytest.raises(Crash):
            train(config, run, data=small_data, progress=False)
    last = list_checkpoints(run)[-1][0]
    assert last == (10 if when == "before" else 20)
    assert list(read_log(run)["step"][:last]) == list(range(1, last + 1))   # the log covers the checkpoint
    _, resumed_log = train(config, run, resume=True, data=small_data, progress=False)
    on_disk = read_log(run)
    assert list(on_disk["step"]) == list(range(1, 31))
    for log in (resumed_log, on_disk):
        for name in LOG_FIELDS:
            if name != "seconds":
                assert np.array_equal(log[name], full_log[name]), name


def test_existing_run_is_not_overwritten(tmp_path, small_data):
    train(cfg(steps=10), tmp_path, data=small_data, progress=False)
    with pytest.raises(FileExistsError, match="--resume"):
        train(cfg(steps=10), tmp_path, data=small_data, progress=False)
    with pytest.raises(ValueError, match="different configuration"):
        train(cfg(steps=10, lr=0.1), tmp_path, resume=True, data=small_data, progress=False)


def test_run_directory_contents(tmp_path, small_data):
    train(cfg(), tmp_path, data=small_data, progress=False)
    assert [s for s, _ in list_checkpoints(tmp_path)] == [10, 20, 30]
    assert json.loads((tmp_path / "config.json").read_text())["steps"] == 30
    log = read_log(tmp_path)
    assert list(log["step"]) == list(range(1, 31)) and np.all(np.isfinite(log["loss"]))
    model = lenet_bn()
    meta = load_checkpoint(tmp_path / "checkpoints" / "step_000030.npz", model)
    assert meta["step"] == 30 and meta["config"]["batch_size"] == 32


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning", "ignore:invalid value encountered:RuntimeWarning")
def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, small_data):
    with pytest.raises(FloatingPointError, match=r"the last good checkpoint, .*step_000002.npz, is intact"):
        train(cfg(optimizer="sgd", lr=1e6, momentum=0.0, schedule="constant", normalize=False, checkpoint_every=1),
              tmp_path, data=small_data, progress=False)
    good = tmp_path / "checkpoints" / "step_000002.npz"
    model = lenet_bn()
    load_checkpoint(good, model)
    assert all(np.isfinite(p.data).all() for p in model.parameters())


def test_epoch_sampling_visits_every_image_once_per_epoch():
    config = cfg(batch_size=10)
    seen = np.concatenate([batch_indices(config, s, 100) for s in range(10)])
    assert sorted(seen) == list(range(100))


def test_learns_on_a_small_subset(small_data):
    model, log = train(cfg(steps=150, batch_size=64), data=small_data, progress=False)
    assert log["loss"][:10].mean() > 1.5 and log["loss"][-20:].mean() < 0.8


def test_bad_config_is_explained():
    with pytest.raises(ValueError, match="optimizer"):
        TrainConfig(optimizer="rmsprop")


def test_width_option_trains_and_reloads_a_wider_network(tmp_path, small_data):
    from fmcnn.evaluate import load_model
    model, _ = train(cfg(steps=10, width=2), tmp_path, data=small_data, progress=False)
    assert model.num_parameters() == lenet_bn(width=2).num_parameters()
    loaded, meta = load_model(tmp_path / "checkpoints" / "step_000010.npz")
    assert meta["config"]["width"] == 2
    assert all(np.array_equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))
    with pytest.raises(ValueError, match="width"):
        TrainConfig(width=0)


def test_recipes_are_valid_configs():
    from fmcnn.train import RECIPES
    for name, recipe in RECIPES.items():
        TrainConfig(**recipe)
    assert RECIPES["original"]["optimizer"] == "sgd" and RECIPES["original"]["sampling"] == "replacement"


def test_augmentation_options(small_data):
    _, plain = train(cfg(steps=5), data=small_data, progress=False)
    _, nothing = train(cfg(steps=5, augment=True, shift=0, flip=False), data=small_data, progress=False)
    _, flips = train(cfg(steps=5, augment=True, shift=0), data=small_data, progress=False)
    assert np.array_equal(plain["loss"], nothing["loss"])      # an augmentation that changes nothing
    assert not np.array_equal(plain["loss"], flips["loss"])
    with pytest.raises(ValueError, match="shift"):
        TrainConfig(shift=-1)


def test_fused_option_trains_the_same_network_up_to_rounding(tmp_path, small_data):
    from fmcnn.evaluate import load_model
    from fmcnn.fast import FusedLeNetBN
    fused_model, fused = train(cfg(steps=20, fused=True), tmp_path, data=small_data, progress=False)
    _, layered = train(cfg(steps=20, fused=False), data=small_data, progress=False)
    assert not np.array_equal(fused["loss"], layered["loss"])           # float32 rounding differs ...
    assert np.allclose(fused["loss"], layered["loss"], rtol=0, atol=1e-4)   # ... and only that (6e-7 when written)
    assert json.loads((tmp_path / "config.json").read_text())["fused"] is True
    loaded, _ = load_model(tmp_path / "checkpoints" / "step_000020.npz")   # an ordinary LeNet-BN checkpoint
    x = small_data[0][:100]
    from fmcnn.preprocess import to_input
    assert np.allclose(loaded.eval().forward(to_input(x)), FusedLeNetBN(fused_model).eval().forward(to_input(x)),
                       rtol=1e-4, atol=1e-4)


def test_bad_images_fail_before_the_run_directory_is_written(tmp_path, small_data):
    images, labels = small_data
    with pytest.raises(TypeError, match="uint8"):
        train(cfg(steps=2), tmp_path / "run", data=(images.astype(np.float32), labels), progress=False)
    assert not (tmp_path / "run").exists()


def _truncate(path, source):
    """Replace ``path`` by the first 1000 bytes of ``source``, like `head -c 1000 source > path`."""
    path.write_bytes(source.read_bytes()[:1000])


def tiny(**kw):
    """Three steps, a checkpoint after each: a whole run in a few milliseconds."""
    return cfg(**{"steps": 3, "batch_size": 8, "checkpoint_every": 1, **kw})


def test_truncated_latest_checkpoint_names_the_last_readable_one_and_resume_from_it_is_exact(tmp_path, small_data):
    full_model, full_log = train(tiny(), tmp_path / "full", data=small_data, progress=False)
    run = tmp_path / "run"
    train(tiny(), run, data=small_data, progress=False)
    latest = run / "checkpoints" / "step_000003.npz"
    _truncate(latest, run / "checkpoints" / "step_000002.npz")
    files = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(CheckpointError, match=r"step_000003.npz is not a readable .npz checkpoint.*"
                                              r"--resume-from step_000002") as e:
        train(tiny(), run, resume=True, data=small_data, progress=False)
    assert str(latest) in str(e.value) and "set_aside" in str(e.value)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == files   # the failed attempt changed nothing

    resumed_model, resumed_log = train(tiny(), run, resume_from="step_000002", data=small_data, progress=False)
    assert np.array_equal(full_log["loss"], resumed_log["loss"])
    for (name, a), (_, b) in zip(full_model.state_dict().items(), resumed_model.state_dict().items()):
        assert np.array_equal(a, b), name
    assert list(read_log(run)["step"]) == [1, 2, 3]
    aside = run / "set_aside" / "after_step_000002"   # the unreadable file and the old log, kept as they were
    assert (aside / "checkpoints" / "step_000003.npz").read_bytes() == files[latest]
    assert (aside / "log.csv").read_bytes() == files[run / "log.csv"]


def test_resume_from_an_earlier_checkpoint_moves_later_files_aside_and_overwrites_nothing(tmp_path, small_data):
    run = tmp_path / "run"
    train(tiny(), run, data=small_data, progress=False)
    later = {p.name: p.read_bytes() for _, p in list_checkpoints(run)[1:]}
    log = (run / "log.csv").read_bytes()
    train(tiny(), run, resume_from=run / "checkpoints" / "step_000001.npz", data=small_data, progress=False)
    train(tiny(), run, resume_from=1, data=small_data, progress=False)
    first, second = run / "set_aside" / "after_step_000001", run / "set_aside" / "after_step_000001_2"
    assert {p.name: p.read_bytes() for p in (first / "checkpoints").iterdir()} == later
    assert (first / "log.csv").read_bytes() == log
    assert sorted(p.name for p in (second / "checkpoints").iterdir()) == sorted(later)
    assert [s for s, _ in list_checkpoints(run)] == [1, 2, 3]


def test_resume_from_a_checkpoint_that_does_not_exist_lists_the_ones_that_do(tmp_path, small_data):
    train(tiny(steps=2), tmp_path, data=small_data, progress=False)
    with pytest.raises(RunError, match=r"no checkpoint step_000003 \(its checkpoints: step_000001, step_000002\)"):
        train(tiny(steps=2), tmp_path, resume_from="step_000003", data=small_data, progress=False)
    with pytest.raises(RunError, match="nothing to resume"):
        train(tiny(steps=2), tmp_path / "new", resume_from="step_000001", data=small_data, progress=False)


def test_damaged_config_and_log_are_clear_errors_naming_the_file(tmp_path, small_data):
    train(tiny(steps=1), tmp_path, data=small_data, progress=False)
    (tmp_path / "log.csv").write_text("step,epoch,loss\n1,0,oops\n")
    with pytest.raises(RunError, match=f"{tmp_path / 'log.csv'} is damaged"):
        read_log(tmp_path)
    (tmp_path / "config.json").write_text('{"steps": "ten"')
    with pytest.raises(ConfigError, match=f"{tmp_path / 'config.json'} is not a valid training configuration"):
        train(tiny(steps=1), tmp_path, resume=True, data=small_data, progress=False)
