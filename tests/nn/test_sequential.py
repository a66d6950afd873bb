import numpy as np
import pytest

from fmcnn.nn import BatchNorm2D, Conv2D, Flatten, Linear, ReLU, Sequential


def small_net():
    return Sequential(Conv2D(1, 2, 3, rng=0), BatchNorm2D(2), ReLU(), Flatten(), Linear(2 * 4 * 4, 3, rng=1))


def test_layer_and_parameter_names():
    net = small_net()
    assert net.names == ["conv1", "bn1", "relu1", "flatten1", "fc1"]
    assert [n for n, _ in net.named_parameters()] == ["conv1.weight", "conv1.bias", "bn1.weight", "bn1.bias",
                                                      "fc1.weight", "fc1.bias"]
    assert net["bn1"] is net[1]
    with pytest.raises(KeyError, match="layers are conv1"):
        net["conv9"]


def test_train_eval_reaches_every_layer():
    net = small_net().eval()
    assert not any(layer.training for layer in net)
    assert all(layer.training for layer in net.train())


def test_state_dict_round_trip_includes_running_statistics():
    a, b = small_net(), Sequential(Conv2D(1, 2, 3, rng=5), BatchNorm2D(2), ReLU(), Flatten(), Linear(32, 3, rng=6))
    a(np.random.default_rng(0).standard_normal((4, 1, 6, 6)).astype(np.float32))   # moves the running stats
    assert "bn1.running_mean" in a.state_dict()
    b.load_state_dict(a.state_dict())
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items()):
        assert np.array_equal(x, y), name


def test_mismatched_state_lists_every_problem():
    state = small_net().state_dict()
    del state["fc1.bias"]
    state["extra"] = np.zeros(1)
    state["conv1.weight"] = np.zeros((3, 1, 3, 3))
    with pytest.raises(ValueError) as e:
        small_net().load_state_dict(state)
    message = str(e.value)
    assert "fc1.bias" in message and "extra" in message and "conv1.weight: checkpoint (3, 1, 3, 3) vs model (2, 1, 3, 3)" in message


def test_backward_runs_layers_in_reverse():
    net = small_net()
    x = np.random.default_rng(0).standard_normal((2, 1, 6, 6)).astype(np.float32)
    out = net(x)
    dx = net.backward(np.ones_like(out))
    assert dx.shape == x.shape and net["conv1"].weight.grad.any()
