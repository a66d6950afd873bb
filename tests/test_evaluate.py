"""Evaluating a run's checkpoints, when some of them cannot be read."""
import json

import numpy as np
import pytest

from fmcnn.checkpoint import CheckpointError
from fmcnn.evaluate import evaluate_run, write_evaluation
from fmcnn.train import TrainConfig, train


@pytest.fixture
def run(tmp_path):
    """A three-step run on random images with a checkpoint after each step; step 3 truncated."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, (64, 28, 28), dtype=np.uint8), rng.integers(0, 10, 64)
    train(TrainConfig(steps=3, batch_size=8, checkpoint_every=1), tmp_path, data=data, progress=False)
    checkpoints = tmp_path / "checkpoints"
    (checkpoints / "step_000003.npz").write_bytes((checkpoints / "step_000002.npz").read_bytes()[:1000])
    return tmp_path, data


def test_an_unreadable_checkpoint_is_skipped_and_said_so_the_others_are_evaluated(run):
    run_dir, data = run
    skipped = []
    results = evaluate_run(run_dir, data=data, skipped=skipped)
    assert [step for step, _, _ in results] == [1, 2]
    assert [step for step, _ in skipped] == [3]
    assert isinstance(skipped[0][1], CheckpointError) and "step_000003.npz" in str(skipped[0][1])
    table = write_evaluation(run_dir, results, skipped)
    assert json.loads((run_dir / "evaluation.json").read_text()) == table
    assert [row["step"] for row in table] == [1, 2, 3]
    assert table[2]["test_accuracy"] is None and "step_000003.npz is not a readable" in table[2]["skipped"]
    assert all(0 <= row["test_accuracy"] <= 1 for row in table[:2])


def test_without_a_skipped_list_an_unreadable_checkpoint_is_an_error(run):
    run_dir, data = run
    with pytest.raises(CheckpointError, match="step_000003.npz is not a readable .npz checkpoint"):
        evaluate_run(run_dir, data=data)


def test_a_run_none_of_whose_checkpoints_can_be_read_is_an_error(run):
    run_dir, data = run
    for path in (run_dir / "checkpoints").iterdir():
        path.write_bytes(b"")
    with pytest.raises(CheckpointError, match="None of the checkpoints"):
        evaluate_run(run_dir, data=data, skipped=[])
