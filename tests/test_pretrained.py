"""The committed pretrained weights reach exactly the test accuracy recorded in results/."""
import json
from pathlib import Path

import numpy as np

from fmcnn.checkpoint import load_checkpoint
from fmcnn.data import load_fashion_mnist
from fmcnn.evaluate import evaluate_model
from fmcnn.models import PRETRAINED_PATH, lenet_bn

RESULTS = Path(__file__).resolve().parents[1] / "results"


def record():
    return json.loads((RESULTS / "pretrained.json").read_text())


def test_pretrained_model_reaches_the_recorded_test_accuracy():
    model = lenet_bn(pretrained=True)
    assert not model.training and model.num_parameters() == 61_750
    acc, cm = evaluate_model(model, *load_fashion_mnist("test"))
    # Evaluation is deterministic: the figure must match to the 4 decimals recorded (k / 10,000 images).
    assert round(acc, 4) == record()["test_accuracy"]
    assert cm.sum() == 10_000
    assert record()["test_accuracy"] >= 0.910      # the course's target for the full training


def test_pretrained_file_holds_the_model_state_only():
    with np.load(PRETRAINED_PATH, allow_pickle=False) as f:
        names = f.files
    assert not [n for n in names if n.startswith("optim/")]
    assert {"model/bn1.running_mean", "model/bn2.running_var", "model/fc3.weight"} <= set(names)
    assert PRETRAINED_PATH.stat().st_size < 300_000


def test_the_command_that_produced_the_weights_is_recorded():
    rec = record()
    meta = load_checkpoint(PRETRAINED_PATH, lenet_bn())
    assert rec["command"].startswith("fmcnn train ") and "--recipe full" in rec["command"]
    assert meta["command"] == rec["command"] and meta["step"] == rec["steps"] == meta["config"]["steps"]
    # The weights were trained by the layered model (their config predates the `fused` option),
    # results/course_full.json by today's default, the fused network: the same command, so the
    # same figure up to float32 rounding, which moves a 30-epoch run's accuracy by thousandths.
    assert "fused" not in meta["config"]
    full = json.loads((RESULTS / "course_full.json").read_text())
    run = next(r for r in full["runs"] if r["command"] == rec["command"])
    assert run["config"]["fused"] is True
    assert abs(run["final_test_accuracy"] - rec["test_accuracy"]) < 0.005
