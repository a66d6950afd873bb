"""Reference answers for the exercises: the functions the checker compares against.

Each function has exactly the signature and return value the student's version
must have (see the exercise notebooks for the full docstrings). Where the
package has the same computation, the reference is the tested ``fmcnn.nn`` /
``fmcnn.optim`` / ``fmcnn.metrics`` code, so "your function passes" means "your
function matches the library". No reference modifies its arguments.
"""
import numpy as np

from .. import metrics
from ..data.idx import parse_idx as _parse_idx
from ..nn import BatchNorm2D, Conv2D, Linear, MaxPool2D, SoftmaxCrossEntropy
from ..nn import softmax as nn_softmax
from ..nn.module import Parameter
from ..optim import Adam


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


def relu_forward(x):
    """x any shape -> max(x, 0), same shape and dtype."""
    return np.maximum(x, 0)


def relu_backward(dout, x):
    """dout, x same shape -> dx = dout where x > 0, else 0."""
    return dout * (x > 0)


# --- 04_conv_forward and 05_conv_backward ----------------------------------------------------

def _conv(w, b, stride, padding):
    O, C, k, _ = w.shape
    return _with_params(Conv2D(C, O, k, stride=stride, padding=padding, rng=0), weight=w, bias=b)


def conv_forward(x, w, b, stride, padding):
    """x (N, C, H, W), w (O, C, k, k), b (O,) -> out (N, O, Ho, Wo)."""
    return _conv(w, b, stride, padding).forward(x)


conv_forward_naive = conv_forward


def conv_backward(dout, x, w, b, stride, padding):
    """dout (N, O, Ho, Wo) and the forward's inputs -> (dx (N, C, H, W), dw (O, C, k, k), db (O,))."""
    layer = _conv(w, b, stride, padding)
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.weight.grad, layer.bias.grad


# --- 06_pooling ------------------------------------------------------------------------------

def maxpool_forward(x, k, stride):
    """x (N, C, H, W) -> out (N, C, Ho, Wo), Ho = (H - k) // stride + 1."""
    return MaxPool2D(k, stride).forward(x)


def maxpool_backward(dout, x, k, stride):
    """dout (N, C, Ho, Wo), x (N, C, H, W) -> dx (N, C, H, W); each gradient goes to the first maximum."""
    pool = MaxPool2D(k, stride)
    pool.forward(x)
    return pool.backward(dout)


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
