import numpy as np

from fmcnn.gradcheck import check_model
from fmcnn.models import lenet_bn
from fmcnn.nn import SoftmaxCrossEntropy


def test_lenet_bn_has_61750_parameters_and_the_documented_shapes():
    model = lenet_bn()
    assert model.num_parameters() == 61_750
    table = model.summary()
    assert "Total parameters: 61,750" in table
    assert "(None, 6, 14, 14)" in table and "(None, 16, 5, 5)" in table and "(None, 10)" in table
    x = np.zeros((3, 1, 28, 28), np.float32)
    assert model.eval()(x).shape == (3, 10)


def test_whole_model_gradients_in_train_and_eval_mode():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 1, 28, 28)), np.array([0, 4, 9])
    for training in (True, False):
        model = lenet_bn(seed=1).train(training)
        errors = check_model(model, SoftmaxCrossEntropy(), x, y)
        if training:
            # BatchNorm subtracts the batch mean, so a conv bias just before it has exactly zero gradient.
            for name in ("conv1.bias", "conv2.bias"):
                assert np.abs(model[name.split(".")[0]].bias.grad).max() < 1e-12
                del errors[name]
        assert max(errors.values()) < 1e-6, errors


def test_same_seed_same_model():
    a, b = lenet_bn(seed=7).state_dict(), lenet_bn(seed=7).state_dict()
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.array_equal(a["fc1.weight"], lenet_bn(seed=8).state_dict()["fc1.weight"])


def test_overfits_a_small_batch():
    # The whole pipeline learns: 32 images memorized in 150 Adam steps.
    from fmcnn.optim import Adam
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 1, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 32)
    model, loss_fn = lenet_bn(seed=0), SoftmaxCrossEntropy()
    opt = Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(150):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        first = loss if first is None else first
        model.backward(loss_fn.backward())
        opt.step()
    assert first > 2.0 and loss < 0.05
    assert (model.eval()(x).argmax(axis=1) == y).mean() == 1.0


def test_width_multiplies_channels_and_hidden_units():
    import pytest
    wide = lenet_bn(width=2)
    table = wide.summary()
    assert "(None, 12, 14, 14)" in table and "(None, 32, 5, 5)" in table and "(None, 240)" in table
    assert wide.num_parameters() == 244_450
    assert [n for n, _ in wide.named_parameters()] == [n for n, _ in lenet_bn().named_parameters()]
    assert wide.eval()(np.zeros((2, 1, 28, 28), np.float32)).shape == (2, 10)
    with pytest.raises(ValueError, match="width"):
        lenet_bn(width=0)
    with pytest.raises(ValueError, match="pretrained"):
        lenet_bn(width=2, pretrained=True)


def test_lenet_plain_is_lenet_bn_without_batch_norm_and_starts_from_the_same_weights():
    from fmcnn.models import lenet_plain
    plain, bn = lenet_plain(seed=3), lenet_bn(seed=3)
    assert plain.names == [n for n in bn.names if not n.startswith("bn")]
    assert plain.num_parameters() == 61_750 - 2 * (6 + 16)
    for name, p in plain.named_parameters():
        assert np.array_equal(p.data, dict(bn.named_parameters())[name].data), name
