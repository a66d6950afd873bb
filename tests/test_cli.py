import json
import os
import re
import shlex
import subprocess

import numpy as np
import pytest

from fmcnn.cli import main


def test_train_evaluate_plot_end_to_end(tmp_path, capsys, fake_data):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "40", "--checkpoint-every", "20", "--quiet"]) == 0
    assert main(["train", "--out", str(run), "--steps", "40", "--quiet"]) == 2          # no silent overwrite
    assert "already holds a training run" in capsys.readouterr().err
    assert main(["evaluate", str(run)]) == 0
    out = capsys.readouterr().out
    assert "      20" in out and "      40" in out and "Ankle boot" in out
    assert main(["plot", str(run)]) == 0
    assert (run / "confusion_matrix.png").stat().st_size > 10_000 and (run / "curves.png").exists()


def test_summary(capsys):
    assert main(["summary"]) == 0
    assert "Total parameters: 61,750" in capsys.readouterr().out


def test_train_width_option(tmp_path, fake_data):
    from fmcnn.train import read_log
    run = tmp_path / "wide"
    assert main(["train", "--out", str(run), "--steps", "5", "--width", "2", "--quiet"]) == 0
    import json
    assert json.loads((run / "config.json").read_text())["width"] == 2
    assert len(read_log(run)["step"]) == 5


def test_train_fused_option(tmp_path, fake_data):
    import json
    for flag, expected in (("--fused", True), ("--no-fused", False)):
        run = tmp_path / flag
        assert main(["train", "--out", str(run), "--steps", "3", flag, "--quiet"]) == 0
        assert json.loads((run / "config.json").read_text())["fused"] is expected


def test_resume_if_exists_starts_then_continues(tmp_path, fake_data):
    from fmcnn.train import read_log
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "4", "--checkpoint-every", "2", "--resume-if-exists", "--quiet"]) == 0
    assert main(["train", "--out", str(run), "--steps", "6", "--resume-if-exists", "--quiet"]) == 0
    assert list(read_log(run)["step"]) == [1, 2, 3, 4, 5, 6]


def one_error_line(err):
    """The single line of ``err``, asserting that it is one line and no traceback."""
    assert err.count("\n") == 1 and err.endswith("\n") and "Traceback" not in err, err
    return err.strip()


@pytest.fixture
def tiny_run(tmp_path, monkeypatch, synthetic_train, synthetic_test):
    """`fmcnn train` of three steps on synthetic data, a checkpoint after each; the intact step 3 is kept
    as a copy and the run's step_000003.npz truncated like `head -c 1000 step_000002.npz > step_000003.npz`."""
    monkeypatch.setattr("fmcnn.data.load_fashion_mnist",
                        lambda split, **k: synthetic_train if split == "train" else synthetic_test)
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "3", "--checkpoint-every", "1", "--batch-size", "8",
                 "--quiet"]) == 0
    checkpoints = run / "checkpoints"
    (tmp_path / "intact.npz").write_bytes((checkpoints / "step_000003.npz").read_bytes())
    (checkpoints / "step_000003.npz").write_bytes((checkpoints / "step_000002.npz").read_bytes()[:1000])
    return run


def test_evaluate_reports_an_unreadable_checkpoint_in_one_line_and_evaluates_the_others(tiny_run, capsys):
    capsys.readouterr()
    assert main(["evaluate", str(tiny_run)]) == 0
    out, err = capsys.readouterr()
    line = one_error_line(err)
    assert line.startswith("fmcnn evaluate: warning: skipped step 3: ") and "step_000003.npz" in line
    assert "unreadable, skipped" in out and "Per-class accuracy at step 2" in out
    table = json.loads((tiny_run / "evaluation.json").read_text())
    assert [(row["step"], row["test_accuracy"] is None) for row in table] == [(1, False), (2, False), (3, True)]


def test_resume_names_the_unreadable_checkpoint_and_the_option_it_offers_resumes_exactly(tiny_run, capsys):
    from fmcnn.checkpoint import load_checkpoint
    from fmcnn.models import lenet_bn
    capsys.readouterr()
    assert main(["train", "--out", str(tiny_run), "--resume", "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"fmcnn train: error: {tiny_run / 'checkpoints' / 'step_000003.npz'} is not a readable")
    offered = re.search(r"run `fmcnn (train [^`]*)`", line)[1]
    assert offered == f"train --out {tiny_run} --resume-from step_000002"
    assert main(shlex.split(offered) + ["--quiet"]) == 0
    resumed, intact = lenet_bn(), lenet_bn(seed=1)
    load_checkpoint(tiny_run / "checkpoints" / "step_000003.npz", resumed)
    load_checkpoint(tiny_run.parent / "intact.npz", intact)
    for name, value in intact.state_dict().items():   # the step that was lost, recomputed exactly
        assert np.array_equal(resumed.state_dict()[name], value), name


def test_no_network_while_downloading_is_one_line(tmp_path, monkeypatch, capsys):
    import fmcnn.data.fashion_mnist as fm
    for var in ("FMCNN_DATA", "FMCNN_CACHE", "FMCNN_DATA_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(fm, "CACHE_DIR", tmp_path / "cache")
    monkeypatch.setattr(fm, "DEBIAN_DIR", tmp_path / "debian")
    monkeypatch.setattr(fm, "BASE_URL", "http://127.0.0.1:9/")   # a closed port: refused at once
    assert main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith("fmcnn train: error: http://127.0.0.1:9/train-images-idx3-ubyte.gz: could not connect")
    assert "Ways to get the data: pass data_dir=" in line and not (tmp_path / "run").exists()


def test_a_corrupt_data_file_is_one_line(tmp_path, monkeypatch, capsys, synthetic_train):
    from fmcnn.data import write_idx
    images, labels = (a[:3] for a in synthetic_train)
    write_idx(tmp_path / "train-images-idx3-ubyte", images)     # readable, but not the real Fashion-MNIST
    write_idx(tmp_path / "train-labels-idx1-ubyte", labels)
    monkeypatch.setenv("FMCNN_DATA", str(tmp_path))
    assert main(["train", "--out", str(tmp_path / "run"), "--quiet"]) == 2
    line = one_error_line(capsys.readouterr().err)
    assert line.startswith(f"fmcnn train: error: {tmp_path / 'train-images-idx3-ubyte'}: MD5 of the decompressed")


def test_one_line_joins_list_items_with_semicolons():
    from fmcnn.cli import one_line
    message = "Not found.\nSearched:\n  - /a (cache)\n  - /b\nWays:\n  - one\n  - two, long\n    and wrapped\nThe end."
    assert one_line(message) == "Not found. Searched: /a (cache); /b. Ways: one; two, long and wrapped. The end."


def bad_inputs(tmp):
    """One case for each command, as (fmcnn arguments, extra environment, how the one error line
    starts), to run as subprocesses; and more cases, as (arguments, start), to run in this process."""
    (tmp / "empty").mkdir()
    (tmp / "bad_config").mkdir()
    (tmp / "bad_config" / "config.json").write_text("{")
    (tmp / "bad_checkpoint" / "checkpoints").mkdir(parents=True)
    (tmp / "bad_checkpoint" / "checkpoints" / "step_000010.npz").write_bytes(b"PK\x03\x04 cut off")
    (tmp / "bad_log").mkdir()
    (tmp / "bad_log" / "log.csv").write_text("step,loss\n1,x\n")
    (tmp / "solutions").mkdir()
    (tmp / "solutions" / "01_data.ipynb").write_text("{not json")
    each_command = [
        (["summary", "--bogus"], {}, "fmcnn: error: unrecognized arguments: --bogus"),
        (["train", "--out", str(tmp / "r"), "--quiet"], {"FMCNN_DATA": str(tmp / "empty")},
         "fmcnn train: error: Fashion-MNIST 'train' files not found in"),
        (["evaluate", str(tmp / "bad_checkpoint")], {}, "fmcnn evaluate: error: None of the checkpoints"),
        (["plot", str(tmp / "bad_log")], {}, f"fmcnn plot: error: {tmp / 'bad_log' / 'log.csv'} is damaged"),
        (["exercises", "generate", "--solutions", str(tmp / "solutions"), "--out", str(tmp / "ex")],
         {}, f"fmcnn exercises: error: {tmp / 'solutions' / '01_data.ipynb'} is not a readable"),
        (["grade", str(tmp / "empty"), "--out", str(tmp / "grades")], {},
         f"fmcnn grade: error: {tmp / 'empty'} holds no student folders"),
    ]
    more = [
        (["train", "--out", str(tmp / "r"), "--steps", "many"],
         "fmcnn train: error: argument --steps: invalid int value: 'many'"),
        (["train", "--out", str(tmp / "bad_config"), "--resume"],
         f"fmcnn train: error: {tmp / 'bad_config' / 'config.json'} is not a valid training"),
        (["train", "--out", str(tmp / "r"), "--lr", "-1"],
         "fmcnn train: error: invalid training config value(s) for lr"),
        (["evaluate", str(tmp / "nowhere")], "fmcnn evaluate: error: No checkpoints in"),
        (["plot", str(tmp / "nowhere")], "fmcnn plot: error: No training log at"),
        (["plot", str(tmp / "bad_log"), "--window", "0"],
         "fmcnn plot: error: argument --window: expected a whole number >= 1"),
        (["exercises"], "fmcnn exercises: error: the following arguments are required: action"),
        (["grade", str(tmp / "empty"), "--out", str(tmp / "grades"), "--student", "bob"],
         f"fmcnn grade: error: no folder {tmp / 'empty' / 'bob'}"),
        ([], "fmcnn: error: the following arguments are required: command"),
    ]
    return each_command, more


def test_every_command_reports_a_bad_input_in_one_line_with_exit_status_2(tmp_path, fake_data):
    cases = bad_inputs(tmp_path)[0]
    # Started together, then awaited: the six commands overlap. `evaluate` reads the (fake) test set.
    running = [(subprocess.Popen(fake_data.cli(*argv), env={**os.environ, **env},
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path), start)
               for argv, env, start in cases]
    for process, start in running:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 2 and "Traceback" not in out, (start, out, err)
        assert one_error_line(err).startswith(start), (start, err)
    assert not any((tmp_path / name).exists() for name in ("r", "ex", "grades"))   # and nothing was written


def test_more_bad_inputs_in_one_line_with_exit_status_2(tmp_path, capsys):
    for argv, start in bad_inputs(tmp_path)[1]:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert one_error_line(err).startswith(start), (argv, err)
    assert not any((tmp_path / name).exists() for name in ("r", "grades"))


def train_parser():
    """The parser of `fmcnn train`, as build_parser makes it."""
    import argparse
    from fmcnn.cli import build_parser
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["train"]


def test_every_train_config_field_has_exactly_one_option_with_its_help_and_choices():
    import argparse
    import dataclasses
    from fmcnn.train import TrainConfig
    actions = [a for a in train_parser()._actions if a.dest != "help"]
    config_fields = dataclasses.fields(TrainConfig)
    for f in config_fields:
        [action] = [a for a in actions if a.dest == f.name]            # one option per field, no more
        name = "--" + f.name.replace("_", "-")
        if f.type is bool:
            assert isinstance(action, argparse.BooleanOptionalAction) and action.option_strings == [name, "--no-" + name[2:]]
        else:
            assert action.option_strings == [name] and action.type is f.type, f.name
        assert action.default is None, f.name          # not given: the recipe's or the resumed run's value
        assert action.help.startswith(f.metadata["help"]), f.name
        assert action.choices == f.metadata.get("choices"), f.name   # choices come from the config
    # and no other option than the config's and the run's own
    others = {a.dest for a in actions} - {f.name for f in config_fields}
    assert others == {"out", "recipe", "resume", "resume_from", "resume_if_exists", "quiet"}


def test_train_config_checks_the_same_choices_as_its_options():
    import dataclasses
    from fmcnn.train import ConfigError, TrainConfig
    with_choices = [f for f in dataclasses.fields(TrainConfig) if "choices" in f.metadata]
    assert {f.name for f in with_choices} == {"optimizer", "schedule", "sampling"}
    for f in with_choices:
        for value in f.metadata["choices"]:
            assert getattr(TrainConfig(**{f.name: value}), f.name) == value
        with pytest.raises(ConfigError, match=f"for {f.name}: {f.name}='bogus'"):
            TrainConfig(**{f.name: "bogus"})
    assert main(["train", "--out", "nowhere", "--optimizer", "bogus"]) == 2


def options_of(config):
    """The `fmcnn train` options that set every field of ``config``."""
    import dataclasses
    argv = []
    for f in dataclasses.fields(config):
        name, value = f.name.replace("_", "-"), getattr(config, f.name)
        argv += [f"--{name}" if value else f"--no-{name}"] if f.type is bool else [f"--{name}", str(value)]
    return argv


def test_options_of_a_config_parse_back_to_that_config():
    import dataclasses
    from fmcnn.cli import config_from_args
    from fmcnn.train import RECIPES, TrainConfig
    default = TrainConfig()
    config = TrainConfig(steps=7, batch_size=3, optimizer="sgd", lr=0.25, momentum=0.5, weight_decay=1e-4,
                         schedule="constant", warmup_steps=2, sampling="replacement", normalize=False, augment=True,
                         shift=3, flip=False, seed=11, checkpoint_every=5, width=2, fused=False)
    assert all(getattr(config, f.name) != getattr(default, f.name) for f in dataclasses.fields(TrainConfig))
    parser = train_parser()
    for recipe in RECIPES:   # the options given win over the recipe and over a resumed run's config
        args = parser.parse_args(["--out", "run", "--recipe", recipe, *options_of(config)])
        assert config_from_args(args) == config and config_from_args(args, default) == config
        # options not given keep the recipe's value, or the resumed run's
        args = parser.parse_args(["--out", "run", "--recipe", recipe])
        assert config_from_args(args) == TrainConfig(**RECIPES[recipe])
        assert config_from_args(args, config) == config
    args = parser.parse_args(["--out", "run", "--recipe", "full", "--no-augment", "--seed", "3"])
    assert config_from_args(args) == TrainConfig(**{**RECIPES["full"], "augment": False, "seed": 3})
