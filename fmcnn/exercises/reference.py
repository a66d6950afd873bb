"""Reference answers for the exercises: the functions the checker compares against.

Each function has exactly the signature and return value the student's version
must have (see the exercise notebooks for the full docstrings). Where the
package has the same computation, the reference is the tested ``fmcnn.nn`` /
``fmcnn.optim`` / ``fmcnn.metrics`` code, so "your function passes" means "your
function matches the library". An exercise that estimates gradients
numerically is judged against the exact gradients. A concept question's
reference returns its answer, with how it follows. No reference modifies its arguments.
"""
import numpy as np

from .. import gradcheck, metrics
from ..data.idx import parse_idx as _parse_idx
from ..nn import (BatchNorm2D, Conv2D, Flatten, Linear, MaxPool2D, ReLU, Sequential, SoftmaxCrossEntropy,
                  conv_output_size)
from ..nn import col2im as nn_col2im
from ..nn import im2col as nn_im2col
from ..nn import softmax as nn_softmax
from ..nn.module import Parameter
from ..optim import Adam


def _float64(*arrays):
    """The arrays in float64: numerical estimates are compared with the exact gradients of these."""
    return tuple(np.asarray(a, dtype=np.float64) for a in arrays)


def _with_params(layer, **arrays):
    """Give ``layer`` fresh Parameters holding copies of ``arrays`` (gradients start at zero)."""
    for name, value in arrays.items():
        setattr(layer, name, Parameter(np.array(value), name))
    return layer


# --- 01_data ---------------------------------------------------------------------------------

def parse_idx(data):
    """bytes of an uncompressed IDX file -> array with the header's shape, native byte order."""
    return _parse_idx(bytes(data))


# --- 02_softmax ------------------------------------------------------------------------------

def softmax(z):
    """z: (N, K) -> probabilities (N, K), each row summing to 1, same dtype."""
    return nn_softmax(z)


def softmax_cross_entropy(logits, labels):
    """logits (N, K), labels (N,) int -> (mean loss as a float, dlogits (N, K))."""
    loss_fn = SoftmaxCrossEntropy()
    loss = loss_fn.forward(logits, labels)
    return loss, loss_fn.backward()


def numerical_gradient(f, x, h):
    """f(x) -> float, x float64 (any shape), step h -> central differences (f(x + h e_i) - f(x - h e_i)) / 2h,
    x's shape, float64. The library's version takes an f() that reads x, which it changes in place."""
    x = np.array(x, dtype=np.float64)
    return gradcheck.numerical_gradient(lambda: f(x), x, h)


def numerical_dlogits(logits, labels):
    """The exercise estimates dlogits numerically; its answer is the exact one, in float64: (N, K)."""
    return softmax_cross_entropy(*_float64(logits), labels)[1]


# --- 03_linear_relu --------------------------------------------------------------------------

def _linear(w, b):
    return _with_params(Linear(w.shape[1], w.shape[0], rng=0), weight=w, bias=b)


def linear_forward(x, w, b):
    """x (N, D), w (M, D), b (M,) -> out (N, M)."""
    return _linear(w, b).forward(x)


def linear_backward(dout, x, w):
    """dout (N, M), x (N, D), w (M, D) -> (dx (N, D), dw (M, D), db (M,))."""
    layer = _linear(w, np.zeros(w.shape[0], dtype=w.dtype))
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.weight.grad, layer.bias.grad


def linear_numerical_grads(dout, x, w, b):
    """Numerical (dx, dw, db) of sum(linear_forward(x, w, b) * dout); the answer: the exact ones, float64."""
    return linear_backward(*_float64(dout, x, w))


def relu_forward(x):
    """x any shape -> max(x, 0), same shape and dtype."""
    return np.maximum(x, 0)


def relu_backward(dout, x):
    """dout, x same shape -> dx = dout where x > 0, else 0."""
    return dout * (x > 0)


def relu_numerical_grad(dout, x):
    """Numerical dx of sum(max(x, 0) * dout); the answer: exact, float64 (x has no exact zeros)."""
    return relu_backward(*_float64(dout, x))


# --- 04_conv_forward and 05_conv_backward ----------------------------------------------------

def _conv(w, b, stride, padding):
    O, C, k, _ = w.shape
    return _with_params(Conv2D(C, O, k, stride=stride, padding=padding, rng=0), weight=w, bias=b)


def conv_forward(x, w, b, stride, padding):
    """x (N, C, H, W), w (O, C, k, k), b (O,) -> out (N, O, Ho, Wo)."""
    return _conv(w, b, stride, padding).forward(x)


conv_forward_naive = conv_forward


def im2col(x, k, stride):
    """x (N, C, H, W), already padded -> cols (N, C * k * k, Ho * Wo): one column per window, rows in
    (channel, kernel row, kernel column) order like w.reshape(O, -1), columns in row-major (i, j) order."""
    return nn_im2col(x, k, stride)


def col2im(cols, x_shape, k, stride):
    """cols (N, C * k * k, Ho * Wo) -> (N, C, H, W) = x_shape: every column added back onto its window."""
    return nn_col2im(cols, tuple(x_shape), k, stride)


def adjoint_test(x, cols, k, stride):
    """(<im2col(x), cols>, <x, col2im(cols)>): equal, because col2im is the adjoint (transpose) of im2col."""
    return float(np.vdot(im2col(x, k, stride), cols)), float(np.vdot(x, col2im(cols, x.shape, k, stride)))


def conv_backward(dout, x, w, b, stride, padding):
    """dout (N, O, Ho, Wo) and the forward's inputs -> (dx (N, C, H, W), dw (O, C, k, k), db (O,))."""
    layer = _conv(w, b, stride, padding)
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.weight.grad, layer.bias.grad


def conv_numerical_grads(dout, x, w, b, stride, padding):
    """Numerical (dx, dw, db) of sum(conv_forward(x, w, b, stride, padding) * dout); the answer: exact, float64."""
    return conv_backward(*_float64(dout, x, w, b), stride, padding)


# --- 06_pooling ------------------------------------------------------------------------------

def maxpool_forward(x, k, stride):
    """x (N, C, H, W) -> out (N, C, Ho, Wo), Ho = (H - k) // stride + 1."""
    return MaxPool2D(k, stride).forward(x)


def maxpool_backward(dout, x, k, stride):
    """dout (N, C, Ho, Wo), x (N, C, H, W) -> dx (N, C, H, W); each gradient goes to the first maximum."""
    pool = MaxPool2D(k, stride)
    pool.forward(x)
    return pool.backward(dout)


def maxpool_numerical_grad(dout, x, k, stride):
    """Numerical dx of sum(maxpool_forward(x, k, stride) * dout); the answer: exact, float64 (no ties)."""
    return maxpool_backward(*_float64(dout, x), k, stride)


# --- 07_batchnorm ----------------------------------------------------------------------------

def _batchnorm(gamma, beta, running_mean, running_var, momentum, eps, train):
    bn = _with_params(BatchNorm2D(gamma.shape[0], momentum=momentum, eps=eps), weight=gamma, bias=beta)
    bn.running_mean, bn.running_var = running_mean.copy(), running_var.copy()
    return bn.train(bool(train))


def batchnorm_forward(x, gamma, beta, running_mean, running_var, momentum, eps, train):
    """x (N, C, H, W), gamma/beta/running_* (C,) -> (out (N, C, H, W), new_running_mean (C,), new_running_var (C,))."""
    bn = _batchnorm(gamma, beta, running_mean, running_var, momentum, eps, train)
    out = bn.forward(x)
    return out, bn.running_mean, bn.running_var


def batchnorm_backward(dout, x, gamma, running_mean, running_var, eps, train):
    """dout, x (N, C, H, W), gamma/running_* (C,) -> (dx (N, C, H, W), dgamma (C,), dbeta (C,))."""
    bn = _batchnorm(gamma, np.zeros_like(gamma), running_mean, running_var, 0.1, eps, train)
    bn.forward(x)
    dx = bn.backward(dout)
    return dx, bn.weight.grad, bn.bias.grad


def batchnorm_numerical_grads(dout, x, gamma, running_mean, running_var, eps, train):
    """Numerical (dx, dgamma, dbeta) of sum(batchnorm_forward(...)[0] * dout); the answer: exact, float64."""
    return batchnorm_backward(*_float64(dout, x, gamma, running_mean, running_var), eps, train)


# --- 08_lenet --------------------------------------------------------------------------------

def lenet_grid(image_size):
    """Side of the feature maps that leave LeNet's second pooling: conv1 (5x5, padding 2) keeps the size,
    each 2x2 pooling halves it (rounding down), conv2 (5x5, no padding) removes 4."""
    return conv_output_size(conv_output_size(conv_output_size(image_size, 5, 1, 2), 2, 2) - 4, 2, 2)


def lenet_shapes(in_channels, image_size, width):
    """{layer: {parameter or buffer name: shape}} of LeNet-BN (chapter 8) for images of
    ``in_channels`` x ``image_size`` x ``image_size``, every channel and hidden count times ``width``."""
    c1, c2, h1, h2 = 6 * width, 16 * width, 120 * width, 84 * width
    bn = lambda c: {"weight": (c,), "bias": (c,), "running_mean": (c,), "running_var": (c,)}   # noqa: E731
    return {"conv1": {"weight": (c1, in_channels, 5, 5), "bias": (c1,)}, "bn1": bn(c1),
            "conv2": {"weight": (c2, c1, 5, 5), "bias": (c2,)}, "bn2": bn(c2),
            "fc1": {"weight": (h1, c2 * lenet_grid(image_size) ** 2), "bias": (h1,)},
            "fc2": {"weight": (h2, h1), "bias": (h2,)}, "fc3": {"weight": (10, h2), "bias": (10,)}}


def lenet_parameter_counts(in_channels, image_size, width):
    """(7,) int64: the trained parameters of conv1, bn1, conv2, bn2, fc1, fc2 and fc3 (running
    statistics are buffers, not parameters)."""
    return np.array([sum(int(np.prod(shape)) for name, shape in arrays.items() if not name.startswith("running"))
                     for arrays in lenet_shapes(in_channels, image_size, width).values()], dtype=np.int64)


def lenet_from_params(params, training=False):
    """LeNet-BN built from ``fmcnn.nn`` layers, sized and loaded from ``params`` (names as in its
    ``state_dict``: "conv1.weight", "bn1.running_var", ...), in evaluation mode (unless ``training``),
    in the params' dtype."""
    size = lambda name, axis: params[name].shape[axis]                            # noqa: E731
    layers = []
    for conv in (Conv2D(size("conv1.weight", 1), size("conv1.weight", 0), 5, padding=2),
                 Conv2D(size("conv2.weight", 1), size("conv2.weight", 0), 5)):
        layers += [conv, BatchNorm2D(conv.out_channels), ReLU(), MaxPool2D(2)]
    layers.append(Flatten())
    for fc in ("fc1", "fc2", "fc3"):
        layers += [Linear(size(f"{fc}.weight", 1), size(f"{fc}.weight", 0)), ReLU()]
    model = Sequential(*layers[:-1]).to(params["conv1.weight"].dtype)            # no ReLU after fc3
    model.load_state_dict(params)
    return model.train(training)


def lenet_forward(x, params):
    """x (N, C, S, S) -> logits (N, 10) of LeNet-BN with these params, in evaluation mode, x's dtype."""
    return lenet_from_params(params).forward(x)


# --- 12_inside_the_network -------------------------------------------------------------------

def input_gradient(x, params, dlogits, training=False):
    """d objective / d x through LeNet-BN (:func:`lenet_from_params`), where ``dlogits(probs)`` gives
    d objective / d logits from the softmax probabilities (N, 10)."""
    model = lenet_from_params(params, training)
    probs = nn_softmax(model.forward(x))
    return model.backward(dlogits(probs).astype(x.dtype))


def score_dlogits(targets):
    """d z[n, targets[n]] / d z: one-hot rows."""
    return lambda probs: np.eye(probs.shape[1])[targets]


def loss_dlogits(targets):
    """d (sum over n of -log p[n, targets[n]]) / d z = p - one-hot."""
    return lambda probs: probs - np.eye(probs.shape[1])[targets]


def score_saliency(x, targets, params):
    """x (N, C, S, S), targets (N,) -> d z[n, targets[n]] / d x[n] for each image n: (N, C, S, S)."""
    return input_gradient(x, params, score_dlogits(targets))


def loss_saliency(x, targets, params):
    """x, targets, params -> d (sum over n of -log p[n, targets[n]]) / d x: each image's own loss, (N, C, S, S)."""
    return input_gradient(x, params, loss_dlogits(targets))


# --- 09_optimizers ---------------------------------------------------------------------------

def sgd_momentum_step(w, dw, velocity, lr, momentum, weight_decay):
    """w, dw, velocity same shape -> (new_w, new_velocity):
    g = dw + weight_decay * w, v = momentum * velocity + g, w = w - lr * v."""
    g = dw + weight_decay * w
    v = momentum * velocity + g
    return w - lr * v, v


def adam_step(w, dw, m, v, t, lr, beta1, beta2, eps, weight_decay):
    """w, dw, m, v same shape, t >= 1 the number of this step -> (new_w, new_m, new_v)."""
    p = Parameter(w.copy())
    p.grad = dw.copy()
    opt = Adam([p], lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    opt.m[0][...], opt.v[0][...] = m, v
    opt.t = t - 1
    opt.step()
    return p.data, opt.m[0], opt.v[0]


# --- 10_metrics ------------------------------------------------------------------------------

def accuracy_from_logits(logits, y_true):
    """The exercise ``accuracy``: logits (N, K), y_true (N,) int -> fraction of rows whose largest
    logit (the first, on ties) is the label. Not ``fmcnn.metrics.accuracy(y_true, y_pred)``, which
    takes predicted labels."""
    return metrics.accuracy(y_true, logits.argmax(axis=1))


def confusion_matrix(y_true, y_pred, num_classes):
    """y_true, y_pred (N,) int -> (K, K) int64 counts, rows = true class, columns = prediction."""
    return metrics.confusion_matrix(y_true, y_pred, num_classes)


# --- debugging: the fixed versions of the functions with planted bugs --------------------------

debug_softmax = softmax


def debug_dlogits(logits, labels):
    """logits (N, K), labels (N,) -> d(mean cross-entropy) / d logits, (N, K)."""
    return softmax_cross_entropy(logits, labels)[1]


def debug_linear_dw(dout, x, w):
    """dout (N, M), x (N, D), w (M, D) -> dw (M, D)."""
    return linear_backward(dout, x, w)[1]


def debug_conv_dx(dout, x, w, stride, padding):
    """dout (N, O, Ho, Wo), x (N, C, H, W), w (O, C, k, k) -> dx (N, C, H, W)."""
    return conv_backward(dout, x, w, np.zeros(w.shape[0], w.dtype), stride, padding)[0]


debug_maxpool_dx = maxpool_backward


def debug_batchnorm_forward(x, gamma, beta, eps):
    """Training-mode BatchNorm output: x (N, C, H, W), gamma and beta (C,) -> out (N, C, H, W)."""
    C = x.shape[1]
    return batchnorm_forward(x, gamma, beta, np.zeros(C, x.dtype), np.ones(C, x.dtype), 0.1, eps, True)[0]



# --- concept questions: each answer, and how it follows ------------------------------------------

def q_labels_file_bytes():
    """Bytes in Fashion-MNIST's uncompressed training labels file."""
    return 4 + 4 * 1 + 60_000 * 1                 # magic number, one 4-byte size, one byte per label


def q_uniform_loss():
    """Cross-entropy when all 10 logits are equal: -log(1/10)."""
    return float(np.log(10))


def q_central_difference_error():
    """By what factor the error of a central difference shrinks when h is halved: it is O(h^2)."""
    return 4


def q_relu_kink():
    """A central difference of ReLU at exactly 0, in units of dout: (h - 0) / 2h."""
    return 0.5


def q_conv_output_size():
    """Output side of a 5x5 convolution with stride 2 and padding 1 on 28x28."""
    return conv_output_size(28, 5, 2, 1)


def q_im2col_size():
    """Numbers in one image's im2col matrix for LeNet's conv2: C k k rows (6 * 25) times Ho Wo columns (10 * 10)."""
    return 6 * 5 * 5 * 10 * 10


def q_windows_per_pixel():
    """3x3 windows with stride 1 on a 6x6 input that contain pixel (0, 2): 1 row of windows times 3 columns."""
    return 1 * 3


def q_pool_check_blind_spot():
    """Which a numerical check of max pooling cannot test: 1) overlapping windows, 2) the rule for ties,
    3) a batch of one. At a tie the function has a kink, and a central difference gives half of each side."""
    return 2


def q_bn_dx_sum():
    """Sum of dx over one channel in training mode: out does not change when the same number is added to
    every value of a channel (the batch mean absorbs it), so the derivative along that direction is 0."""
    return 0


def q_receptive_field():
    """Side of the input patch one conv2 output depends on: 5 pool1 positions, each 2 apart -> 10 conv1
    positions, plus conv1's 4 extra pixels: 14."""
    return (5 - 1) * 2 + 2 + 4


def q_momentum_speedup():
    """With a constant gradient, momentum 0.9 reaches a step 1 / (1 - 0.9) times as large as plain SGD's."""
    return 10


def q_adam_first_step():
    """How far Adam's first step (lr 0.001, eps negligible) moves a parameter whose gradient is 0.003:
    m_hat = g and v_hat = g^2, so the step is lr * g / |g| = lr, whatever g."""
    return 0.001


def q_constant_classifier():
    """Accuracy on the balanced 10-class test set of a classifier that always answers "Trouser"."""
    return 1 / 10


def q_confident_gradient():
    """d(-log p_t) / d z_t when p_t = 0.999: p_t - 1."""
    return 0.999 - 1


def q_gradcheck_meaning():
    """What a passing numerical gradient check proves: 1) the forward pass is right, 2) the backward pass
    computes the gradient of the forward pass as it is written, 3) both passes are right. It compares the
    backward pass with the forward pass, and says nothing about whether the forward pass is the intended one."""
    return 2
