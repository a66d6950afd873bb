import numpy as np
import pytest

from fmcnn.models import lenet_bn
from fmcnn.nn import SoftmaxCrossEntropy
from fmcnn.optim import SGD, Adam
from fmcnn.preprocess import to_input
from fmcnn.viz import record
from fmcnn.viz.diagnostics import dead_fraction, trace_training, update_ratio


@pytest.fixture
def batches(synthetic_train):
    """Six batches of 16 synthetic images, in float64 so that two ways of training agree to 1e-10."""
    images, labels = synthetic_train
    x, y = to_input(images[:96], dtype=np.float64), labels[:96].astype(np.int64)
    return [(x[i:i + 16], y[i:i + 16]) for i in range(0, 96, 16)]


def model64(seed=0):
    return lenet_bn(seed=seed).to(np.float64)


def test_update_ratio_and_dead_fraction_by_hand():
    assert update_ratio(np.array([3.0, 4.0]), np.array([3.0, 4.5])) == pytest.approx(0.1)
    a = np.array([[0.0, 1.0, 0.0, 0.0],
                  [0.0, 0.0, 2.0, 0.0],
                  [0.0, 3.0, 0.0, 0.0]])          # units 0 and 3 never fire on these 3 examples
    assert dead_fraction(a) == 0.5
    maps = np.zeros((2, 3, 4, 4))
    maps[1, 0] = 1.0                                # channel 0 fires everywhere on example 1
    assert dead_fraction(maps) == pytest.approx(2 / 3)


def test_a_traced_run_is_the_usual_training_loop(batches):
    traced, plain = model64(), model64()
    traced_opt, plain_opt = Adam(traced.parameters(), 1e-3), Adam(plain.parameters(), 1e-3)
    trace = trace_training(traced, traced_opt, batches)
    loss_fn, losses = SoftmaxCrossEntropy(), []
    for x, y in batches:
        plain_opt.zero_grad()
        losses.append(loss_fn.forward(plain.forward(x), y))
        plain.backward(loss_fn.backward())
        plain_opt.step()
    assert np.allclose(trace.loss, losses, rtol=1e-10)
    for (name, a), b in zip(traced.state_dict().items(), plain.state_dict().values()):
        # atol: the conv biases before BatchNorm have gradients of rounding noise, which Adam turns into steps
        assert np.allclose(a, b, rtol=1e-10, atol=1e-9), name
    assert np.array_equal(trace.steps, np.arange(1, 7)) and trace.diverged_at is None
    assert np.all(trace.lr == 1e-3) and np.all((trace.accuracy >= 0) & (trace.accuracy <= 1))


def test_every_measurement_of_a_step(batches):
    model = model64()
    start = model.state_dict()
    trace = trace_training(model, SGD(model.parameters(), 0.1), batches[:2], keep=(2,))
    assert list(trace.update_ratio) == ["conv1.weight", "bn1.weight", "conv2.weight", "bn2.weight",
                                        "fc1.weight", "fc2.weight", "fc3.weight"]
    assert list(trace.dead) == ["relu1", "relu2", "relu3", "relu4"] and list(trace.bn) == ["bn1", "bn2"]
    assert all(v.shape == (2,) for v in (*trace.update_ratio.values(), *trace.dead.values()))
    assert trace.bn["bn2"]["batch_var"].shape == (2, 16)

    # Step 1 redone by hand from the same start.
    again = model64()
    x, y = batches[0]
    rec = record(again, x, y, mode="train", restore=False)
    assert trace.loss[0] == pytest.approx(rec.values.mean())
    assert trace.dead["relu3"][0] == dead_fraction(rec.activations["relu3"])
    assert np.allclose(trace.bn["bn2"]["batch_mean"][0], rec.activations["conv2"].mean(axis=(0, 2, 3)))
    assert np.allclose(trace.bn["bn1"]["batch_var"][0], rec.activations["conv1"].var(axis=(0, 2, 3)))
    assert np.allclose(trace.bn["bn1"]["running_var"][0], again["bn1"].running_var)
    SGD(again.parameters(), 0.1).step()   # record left the summed loss's gradients: N times the mean's
    w = again["fc1"].weight.data
    assert trace.update_ratio["fc1.weight"][0] == pytest.approx(update_ratio(start["fc1.weight"], w) / len(x))

    # The recording of step 2 is made before its update; the last running statistics are the model's.
    assert list(trace.recordings) == [2] and trace.recordings[2].activations["fc3"].shape == (16, 10)
    assert np.array_equal(trace.bn["bn2"]["running_mean"][-1], model["bn2"].running_mean)


def test_learning_rates_per_step(batches):
    model = model64()
    lrs = np.geomspace(1e-4, 1e-2, len(batches))
    optimizer = Adam(model.parameters(), 1.0)
    trace = trace_training(model, optimizer, batches, lrs=lrs)
    assert np.array_equal(trace.lr, lrs) and optimizer.lr == lrs[-1]


def test_training_stops_before_a_step_with_an_infinite_loss(batches):
    model = model64()
    x, y = batches[2]
    bad = x.copy()
    bad[0, 0, 0, 0] = np.nan
    trace = trace_training(model, Adam(model.parameters(), 1e-3), [batches[0], batches[1], (bad, y), batches[3]])
    assert trace.diverged_at == 3 and len(trace.loss) == 2 and trace.bn["bn1"]["batch_mean"].shape == (2, 6)
    assert all(np.isfinite(p.data).all() for p in model.parameters())

    fresh = model64()
    first = trace_training(fresh, Adam(fresh.parameters(), 1e-3), [(bad, y)])
    assert first.diverged_at == 1 and first.loss.shape == (0,) and first.bn["bn2"]["running_var"].shape == (0, 16)
