import multiprocessing
import sys
import threading
import time

import numpy as np
import pytest

import fmcnn.fast.fused as fused_module
import fmcnn.fast.threads as threads_module
from fmcnn.data import load_fashion_mnist
from fmcnn.fast.fused import FusedLeNetBN, pool_2x2, pool_2x2_backward
from fmcnn.gradcheck import check_model
from fmcnn.models import lenet_bn
from fmcnn.nn import MaxPool2D, ReLU, SoftmaxCrossEntropy, im2col
from fmcnn.optim import Adam
from fmcnn.preprocess import to_input


@pytest.fixture(scope="module")
def images():
    # Real images: their flat black background makes exact ties inside pooling windows.
    x, y = load_fashion_mnist("train")
    return to_input(x[:24]), y[:24].astype(np.int64)


def twin_models(seed=1, width=1, dtype=np.float64):
    """Two identical LeNet-BNs with every parameter moved off its initial value (negative
    gammas and non-zero conv biases included), so that no term of the gradient is trivially zero."""
    a, b = lenet_bn(seed=seed, width=width).to(dtype), lenet_bn(seed=seed, width=width).to(dtype)
    rng = np.random.default_rng(seed)
    for p in a.parameters():
        p.data += (0.2 * rng.standard_normal(p.data.shape)).astype(dtype)
    for name in ("bn1", "bn2"):
        a[name].weight.data[::2] *= -1
    b.load_state_dict(a.state_dict())
    return a, b


def loss_and_backward(net, x, y):
    loss_fn = SoftmaxCrossEntropy()
    net.zero_grad()
    logits = net.forward(x)
    loss = loss_fn.forward(logits, y)
    net.backward(loss_fn.backward())
    return logits, loss


@pytest.mark.parametrize("width", [1, 2])
def test_same_logits_gradients_and_running_statistics_as_the_layered_model(images, width):
    x, y = images
    layered, model = twin_models(width=width)
    fused = FusedLeNetBN(model)
    logits_a, loss_a = loss_and_backward(layered, x.astype(np.float64), y)
    logits_b, loss_b = loss_and_backward(fused, x.astype(np.float64), y)
    assert np.allclose(logits_a, logits_b, rtol=0, atol=1e-12) and abs(loss_a - loss_b) < 1e-12
    for (name, p), q in zip(layered.named_parameters(), model.parameters()):
        if name.endswith(("conv1.bias", "conv2.bias")):
            # Zero in exact arithmetic (BatchNorm cancels the bias): rounding noise in one, exactly 0 in the other.
            assert np.abs(p.grad).max() < 1e-12 and not q.grad.any(), name
        else:
            assert np.allclose(p.grad, q.grad, rtol=1e-9, atol=1e-12), name
    for (name, a), (_, b) in zip(layered.named_buffers(), model.named_buffers()):
        assert np.allclose(a, b, rtol=1e-12, atol=1e-12), name
    layered.eval(), fused.eval()
    assert np.allclose(layered.forward(x.astype(np.float64)), fused.forward(x.astype(np.float64)), rtol=0, atol=1e-10)


def test_gradients_match_numerical_derivatives(images):
    x, y = images
    _, model = twin_models()
    fused = FusedLeNetBN(model)
    errors = check_model(fused, SoftmaxCrossEntropy(), x[:4], y[:4], max_entries=20)
    assert "x" not in errors                                      # backward returns no input gradient
    for name in ("conv1.bias", "conv2.bias"):
        del errors[name]                                          # zero gradient: checked in the test above
    assert max(errors.values()) < 1e-6, errors


def test_float32_agrees_with_the_layered_model_to_rounding(images):
    x, y = images
    layered, model = twin_models(dtype=np.float32)
    fused = FusedLeNetBN(model)
    logits_a, _ = loss_and_backward(layered, x, y)
    logits_b, _ = loss_and_backward(fused, x, y)
    assert logits_b.dtype == np.float32
    assert np.allclose(logits_a, logits_b, rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(layered.named_parameters(), model.parameters()):
        if not name.endswith("bias") or name.startswith(("fc", "bn")):
            scale = np.abs(p.grad).max()
            assert np.abs(p.grad - q.grad).max() < 1e-3 * scale, name


def test_training_with_adam_follows_the_layered_model(images):
    # Steps differ only in the conv biases, which Adam moves in the layered model on rounding noise
    # alone; they cancel in BatchNorm, so logits in both modes still agree.
    x, y = images
    layered, model = twin_models()
    fused = FusedLeNetBN(model)
    opts = Adam(layered.parameters(), lr=1e-3), Adam(model.parameters(), lr=1e-3)
    bias_before = model["conv1"].bias.data.copy()
    for _ in range(3):
        for net, opt in zip((layered, fused), opts):
            loss_and_backward(net, x.astype(np.float64), y)
            opt.step()
    for (name, p), q in zip(layered.named_parameters(), model.parameters()):
        if not name.endswith(("conv1.bias", "conv2.bias")):
            assert np.allclose(p.data, q.data, rtol=0, atol=1e-8), name
    assert np.array_equal(model["conv1"].bias.data, bias_before)       # zero gradient, so Adam never moves it
    assert not np.array_equal(layered["conv1"].bias.data, bias_before)
    x64 = x.astype(np.float64)
    assert np.allclose(layered.forward(x64), fused.forward(x64), atol=1e-8)
    layered.eval(), fused.eval()
    assert np.allclose(layered.forward(x64), fused.forward(x64), atol=1e-8)


def test_evaluation_in_slices_equals_one_batch():
    model = lenet_bn(pretrained=True)
    fused = FusedLeNetBN(model)
    x = to_input(load_fashion_mnist("test")[0][:150])           # 150 = 2 slices of 64 and one of 22
    assert np.allclose(fused.forward(x), model.forward(x), rtol=1e-4, atol=1e-4)
    assert np.array_equal(fused.forward(x)[64:128], fused.forward(x[64:128]))


def test_pooling_steps_equal_maxpool_and_relu_ties_included():
    rng = np.random.default_rng(0)
    y = np.round(rng.standard_normal((3, 4, 6, 8)), 0)              # integers: many exact ties
    g = rng.standard_normal((3, 4, 3, 4))
    relu, pool = ReLU(), MaxPool2D(2)
    expected_out = pool.forward(relu.forward(y))
    expected_dy = relu.backward(pool.backward(g))
    wmax, out = pool_2x2(y)
    assert np.array_equal(np.maximum(out, 0), expected_out)
    assert np.array_equal(pool_2x2_backward(g * (out > 0), y, wmax, out), expected_dy)


def test_bad_models_and_inputs_are_explained():
    from fmcnn.nn import Conv2D, Sequential
    with pytest.raises(ValueError, match="lenet_bn"):
        FusedLeNetBN(Sequential(Conv2D(1, 6, 5)))
    model = lenet_bn()
    model["conv2"].padding = 1
    with pytest.raises(ValueError, match="modified"):
        FusedLeNetBN(model)
    fused = FusedLeNetBN(lenet_bn())
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        fused.forward(np.zeros((2, 1, 32, 32), np.float32))
    with pytest.raises(TypeError, match="floating-point"):
        fused.forward(np.zeros((2, 1, 28, 28), np.uint8))
    with pytest.raises(RuntimeError, match="forward pass"):
        fused.backward(np.zeros((2, 10), np.float32))


def test_on_two_cores_covers_the_range_once():
    for n in (2, 7, 6400):
        calls = []
        threads_module.on_two_cores(lambda lo, hi: calls.append((lo, hi)), n)
        assert sorted(calls) == [(0, n // 2), (n // 2, n)]
    calls = []
    threads_module.on_two_cores(lambda lo, hi: calls.append((lo, hi)), 1)
    assert calls == [(0, 1)]


def halves(main=None, helper=None, helper_seconds=0.2):
    """A compute(lo, hi) for on_two_cores(compute, 10): the helper's half (lo == 0) sleeps, then
    sets ``finished`` and raises ``helper`` if given; the half run on this thread raises ``main`` if given."""
    finished = threading.Event()

    def compute(lo, hi):
        if lo == 0:
            time.sleep(helper_seconds)          # still running when this thread's half raises
            finished.set()
            if helper is not None:
                raise helper
        elif main is not None:
            raise main
    return compute, finished


@pytest.mark.parametrize("error", [ValueError("main half"), KeyboardInterrupt()])
def test_on_two_cores_waits_for_the_helper_before_raising(error):
    compute, finished = halves(main=error)
    with pytest.raises(type(error)) as caught:
        threads_module.on_two_cores(compute, 10)
    assert caught.value is error
    assert finished.is_set(), "the exception left while the helper's half was still running"


def test_on_two_cores_raises_the_helpers_exception():
    compute, finished = halves(helper=ValueError("helper half"))
    with pytest.raises(ValueError, match="helper half"):
        threads_module.on_two_cores(compute, 10)
    assert finished.is_set()


def test_on_two_cores_keeps_the_main_exception_when_both_halves_fail():
    main = KeyboardInterrupt()
    compute, finished = halves(main=main, helper=ValueError("helper half"))
    with pytest.raises(KeyboardInterrupt) as caught:
        threads_module.on_two_cores(compute, 10)
    assert caught.value is main and finished.is_set()
    if sys.version_info >= (3, 11):
        assert "ValueError('helper half')" in " ".join(caught.value.__notes__)


def test_a_single_image_trains_and_evaluates_like_the_layered_model(images):
    x, y = images
    layered, model = twin_models()
    fused = FusedLeNetBN(model)
    x1 = x[:1].astype(np.float64)
    logits_a, _ = loss_and_backward(layered, x1, y[:1])
    logits_b, _ = loss_and_backward(fused, x1, y[:1])
    assert np.allclose(logits_a, logits_b, rtol=0, atol=1e-12)
    for (name, p), q in zip(layered.named_parameters(), model.parameters()):
        if not name.endswith("bias") or name.startswith(("bn", "fc")):
            assert np.allclose(p.grad, q.grad, rtol=1e-9, atol=1e-12), name
    layered.eval(), fused.eval()
    x65 = np.concatenate([x, x, x])[:65].astype(np.float64)       # a slice of 64 and a slice of one
    assert np.allclose(layered.forward(x65), fused.forward(x65), rtol=0, atol=1e-10)


def test_two_cores_give_the_numbers_of_one(images, monkeypatch):
    # Point 8 claims that a product split over two threads holds the same numbers as one call.
    # Run a float32 training step and an evaluation pass as shipped, then again with every
    # split product computed as one call on this thread, and compare to the last bit.
    x, y = images

    def run():
        model = lenet_bn(seed=3)
        net = FusedLeNetBN(model)
        logits, loss = loss_and_backward(net, x, y)
        return logits, loss, [p.grad.copy() for p in model.parameters()], net.eval().forward(x)

    on_two = run()
    monkeypatch.setattr(fused_module, "on_two_cores", lambda compute, n: compute(0, n))
    on_one = run()
    assert on_two[1] == on_one[1]
    for a, b in zip([on_two[0], on_two[3], *on_two[2]], [on_one[0], on_one[3], *on_one[2]]):
        assert a.dtype == np.float32 and np.array_equal(a, b)


def _step_in_child(x, y):
    loss_and_backward(FusedLeNetBN(lenet_bn(seed=0)), x, y)


def test_a_forked_process_can_run_the_fused_pass(images):
    # The parent's helper thread does not exist in a fork()ed child; without a fresh one the
    # child's first split product would wait for ever.
    x, y = images
    loss_and_backward(FusedLeNetBN(lenet_bn(seed=0)), x, y)         # the parent's helper thread is running
    child = multiprocessing.get_context("fork").Process(target=_step_in_child, args=(x, y))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
        child.join()
    assert child.exitcode == 0


def test_geometry_is_read_off_the_model():
    from fmcnn.fast.fused import Geometry
    for width in (1, 2):
        geo = Geometry.of(lenet_bn(width=width))
        assert (geo.in_channels, geo.size, geo.padded, geo.conv1, geo.conv2, geo.k) == (1, 28, 32, 28, 10, 5)
        assert (geo.c1, geo.c2) == (6 * width, 16 * width)


def test_fused_network_is_a_module_over_the_models_state():
    from fmcnn.nn import Module
    model = lenet_bn(seed=0)
    fused = FusedLeNetBN(model)
    assert isinstance(fused, Module)
    assert [n for n, _ in fused.named_parameters()] == [n for n, _ in model.named_parameters()]
    assert fused.num_parameters() == model.num_parameters() == 61_750
    state = fused.state_dict()
    assert state.keys() == model.state_dict().keys()
    model["fc3"].bias.grad[...] = 1
    fused.zero_grad()
    assert not model["fc3"].bias.grad.any()
    fused.eval()
    assert not model.training and not fused.training
    fused.train()
    assert model.training and fused.training
