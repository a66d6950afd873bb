import numpy as np
import pytest

from fmcnn.gradcheck import normwise_error, numerical_gradient
from fmcnn.models import lenet_bn
from fmcnn.nn import Sequential, SoftmaxCrossEntropy
from fmcnn.viz import record, softmax


def inputs(n=4, seed=1, dtype=np.float32):
    return np.random.default_rng(seed).standard_normal((n, 1, 28, 28)).astype(dtype)


def test_activations_equal_a_manual_forward_pass():
    model = lenet_bn(seed=0).eval()
    x = inputs()
    rec = record(model, x, backward=False)
    h = x
    for name, layer in model.named_layers():
        h = layer.forward(h)
        assert rec.activations[name].shape == h.shape
        assert np.array_equal(rec.activations[name], h), name
    assert rec.names == model.names == list(rec.activations)
    assert np.array_equal(rec.logits, h)
    assert np.allclose(rec.probs, softmax(h.astype(np.float64)), atol=1e-6)
    assert np.array_equal(rec.targets, h.argmax(axis=1)) and np.array_equal(rec.predictions, h.argmax(axis=1))
    assert rec.grads == {} and rec.input_grad is None
    assert rec.maps("conv1", 2).shape == (6, 28, 28)


def test_loss_gradients_equal_a_manual_backward_pass():
    model = lenet_bn(seed=0).eval()
    x, y = inputs(), np.array([3, 1, 4, 1])
    rec = record(model, x, y, objective="loss")
    loss_fn = SoftmaxCrossEntropy()
    logits = model.forward(x)
    mean_loss = loss_fn.forward(logits, y)
    dlogits = loss_fn.backward() * len(x)      # record sums the examples' losses; the loss function averages
    assert np.isclose(rec.values.mean(), mean_loss, rtol=1e-5)
    assert np.allclose(rec.grads["fc3"], dlogits, atol=1e-6)
    g = dlogits
    for name, layer in reversed(list(model.named_layers())):
        assert np.allclose(rec.grads[name], g, rtol=1e-4, atol=1e-7), name
        g = layer.backward(g)
    assert np.allclose(rec.input_grad, g, rtol=1e-4, atol=1e-7)
    assert all(rec.grads[n].shape == rec.activations[n].shape for n in rec.names)
    assert list(rec.grads) == rec.names


def test_score_objective_has_onehot_logit_gradient():
    model = lenet_bn(seed=0).eval()
    rec = record(model, inputs(2), targets=7, objective="score")
    assert np.array_equal(rec.targets, [7, 7])
    expected = np.zeros((2, 10), np.float32)
    expected[:, 7] = 1
    assert np.array_equal(rec.grads["fc3"], expected)
    assert np.allclose(rec.values, rec.logits[:, 7])


@pytest.mark.parametrize("objective", ["loss", "score"])
def test_input_and_layer_gradients_match_central_differences(objective):
    """In float64: d objective / d input and d objective / d(conv2 output) against numerical gradients.
    (Not at a ReLU output: max pooling of exact zeros has ties, where central differences are meaningless.)"""
    model = lenet_bn(seed=3).eval().to(np.float64)
    x = inputs(2, seed=4, dtype=np.float64)
    targets = np.array([2, 5])
    rec = record(model, x, targets, objective=objective)

    def objective_of(logits):
        rows = np.arange(len(logits))
        if objective == "score":
            return float(logits[rows, targets].sum())
        return float(-np.log(softmax(logits)[rows, targets]).sum())

    xc = x.copy()
    idx = np.random.default_rng(0).choice(xc.size, 60, replace=False)
    num = numerical_gradient(lambda: objective_of(model.forward(xc)), xc, indices=idx)
    assert normwise_error(rec.input_grad.ravel()[idx], num.ravel()[idx]) < 1e-6

    k = model.names.index("conv2")
    rest = Sequential(*model.layers[k + 1:])
    a = rec.activations["conv2"].copy()
    num = numerical_gradient(lambda: objective_of(rest.forward(a)), a)
    assert normwise_error(rec.grads["conv2"], num) < 1e-6


def test_recording_leaves_the_model_as_it_was():
    model = lenet_bn(seed=0).train()
    for p in model.parameters():
        p.grad[...] = 0.5
    before = {n: v.copy() for n, v in model.state_dict().items()}
    record(model, inputs(), objective="loss")
    assert model.training and all(layer.training for layer in model.layers)
    assert all(np.all(p.grad == 0.5) for p in model.parameters())
    after = model.state_dict()
    assert all(np.array_equal(before[n], after[n]) for n in before)   # eval mode: running stats untouched
    model.eval()
    record(model, inputs(), mode="train")
    assert not model.training


def test_bad_arguments():
    model = lenet_bn()
    with pytest.raises(ValueError, match="objective"):
        record(model, inputs(1), objective="accuracy")
    with pytest.raises(ValueError, match="mode"):
        record(model, inputs(1), mode="test")


def test_train_mode_leaves_the_running_statistics_as_they_were():
    model = lenet_bn(seed=0).train()
    before = model.state_dict()
    record(model, inputs(8), np.arange(8), mode="train")
    assert all(np.array_equal(before[n], v) for n, v in model.state_dict().items())


def test_without_restore_a_recording_is_the_forward_and_backward_pass_of_a_training_step():
    x, y = inputs(8), np.arange(8)
    model, reference = lenet_bn(seed=0).eval(), lenet_bn(seed=0).train()
    record(model, x, y, mode="train", restore=False)
    loss_fn = SoftmaxCrossEntropy()
    loss_fn.forward(reference.forward(x), y)
    reference.backward(loss_fn.backward())
    for (name, p), q in zip(model.named_parameters(), reference.parameters()):
        # record differentiates the summed loss: N times the gradient of the mean loss
        assert np.allclose(p.grad / len(x), q.grad, rtol=1e-4, atol=1e-6), name
    for (name, a), (_, b) in zip(model.named_buffers(), reference.named_buffers()):
        assert np.allclose(a, b, rtol=1e-6), name   # running statistics updated by the batch
    assert not model.training                       # the mode is restored either way


def test_no_input_gradient_when_the_first_layer_skips_it():
    model = lenet_bn(seed=0)
    model["conv1"].input_grad = False
    rec = record(model, inputs(2))
    assert rec.input_grad is None and rec.grads["conv1"].shape == (2, 6, 28, 28)
