"""Test cases for the exercises, made from a random generator.

Every ``*_cases(rng)`` function returns the same list of case *kinds* whatever
the generator (so the structure of the test set, e.g. which cases use padding,
is fixed), while sizes and values come from ``rng``. The checker in a notebook
calls them with the visible seed; grading calls them with the hidden seed, so
the graded inputs are never the ones a notebook prints.
"""
from dataclasses import dataclass

import numpy as np

from ..data.idx import encode_idx
from ..models import lenet_bn
from .compare import NUMERICAL, Tolerance
from .reference import lenet_forward, lenet_shapes

F32, F64 = np.float32, np.float64


@dataclass(frozen=True)
class Case:
    """One call of an exercise function.

    label: what the case tests, shown to the student ("stride 2, padding 1, float64").
    args: the positional arguments of the call.
    tolerance: a :class:`~fmcnn.exercises.compare.Tolerance` of its own (numerical estimates,
        answers to questions), instead of the one of the inputs' precision.
    """

    label: str
    args: tuple
    tolerance: Tolerance = None

    @property
    def precision(self):
        """What sets the tolerance: the case's own Tolerance if it has one, else float32 if any
        argument is a float32 array (looser), else float64."""
        if self.tolerance is not None:
            return self.tolerance
        return F32 if any(isinstance(a, np.ndarray) and a.dtype == F32 for a in self.args) else F64


def copy_args(args):
    """Copies of the arrays in ``args``, so a function that modifies its inputs changes nothing else."""
    return tuple(a.copy() if isinstance(a, np.ndarray) else a for a in args)


def shape_str(shape):
    return "x".join(str(s) for s in shape)


def _normal(rng, shape, dtype=F64, scale=1.0, shift=0.0):
    return (rng.standard_normal(shape) * scale + shift).astype(dtype)


def answer_cases(rtol=0.0):
    """The case generator of a concept question: a single call with no argument, whose answer is
    right within ``rtol`` (relative; 0: exactly). Hidden and visible are the same question."""
    return lambda rng: [Case("your answer", (), Tolerance(rtol, 0.0))]


def _estimate_cases(cases):
    """Cases of an exercise that estimates gradients numerically: compared with the exact gradients
    with the tolerance of such estimates, whatever the precision of the inputs."""
    return [Case(c.label, c.args, NUMERICAL) for c in cases]


# --- 01_data ---------------------------------------------------------------------------------

def parse_idx_cases(rng):
    """Args (data,): the bytes of an IDX file."""
    n, h, w = (int(v) for v in rng.integers(2, 6, size=3))
    arrays = [
        ("uint8 images", rng.integers(0, 256, (n, h, w)).astype(np.uint8)),
        ("uint8 labels", rng.integers(0, 10, 2 * n + 3).astype(np.uint8)),
        ("int8 values with negative numbers", rng.integers(-128, 128, (h, w)).astype(np.int8)),
        ("int16 matrix, 2-byte items", rng.integers(-30000, 30000, (n, w)).astype(np.int16)),
        ("int32 3-D array", rng.integers(-2**31, 2**31 - 1, (2, n, h)).astype(np.int32)),
        ("float32 matrix", _normal(rng, (h, n), F32)),
        ("float64 vector", _normal(rng, (w + 3,))),
        ("zero items", np.zeros((0, h, w), dtype=np.uint8)),
    ]
    return [Case(f"{label}: shape {a.shape}", (encode_idx(a),)) for label, a in arrays]


# --- 02_softmax ------------------------------------------------------------------------------

def _logit_cases(rng):
    n, k = int(rng.integers(3, 6)), int(rng.integers(4, 11))
    tied = np.repeat(_normal(rng, (n, 1)), k, axis=1)
    tied[0] = _normal(rng, k)
    return [
        ("random logits", _normal(rng, (n, k), scale=3.0)),
        ("huge logits near 1000, exp overflows without a shift", _normal(rng, (n, k), scale=5.0, shift=1000.0)),
        ("batch of 1", _normal(rng, (1, k), scale=3.0)),
        ("float32 logits", _normal(rng, (n, k), F32, scale=3.0)),
        ("rows of equal logits", tied),
    ]


def softmax_cases(rng):
    """Args (z,): logits (N, K)."""
    return [Case(f"{label}: z {shape_str(z.shape)} {z.dtype}", (z,)) for label, z in _logit_cases(rng)]


def softmax_cross_entropy_cases(rng):
    """Args (logits, labels)."""
    cases = []
    for label, z in _logit_cases(rng):
        y = rng.integers(0, z.shape[1], z.shape[0])
        cases.append(Case(f"{label}: logits {shape_str(z.shape)} {z.dtype}", (z, y)))
    return cases


@dataclass(frozen=True, eq=False)
class WeightedSum:
    """f(x) = sum(g * x): linear, so its central differences are exact for any step."""

    g: np.ndarray

    def __call__(self, x):
        return float(np.sum(self.g * x))


@dataclass(frozen=True, eq=False)
class CoupledCubes:
    """f(x) = sum(a * x**3) + sum(b * x)**2. With a large step the central difference, 3 a x^2 + a h^2
    + 2 b sum(b * x), is not the derivative; and every entry's derivative depends on all of x."""

    a: np.ndarray
    b: np.ndarray

    def __call__(self, x):
        return float(np.sum(self.a * x ** 3) + np.sum(self.b * x) ** 2)


@dataclass(frozen=True, eq=False)
class CrossEntropyOf:
    """f(logits) = mean softmax cross-entropy of the logits against fixed labels."""

    labels: np.ndarray

    def __call__(self, logits):
        shifted = logits - logits.max(axis=1, keepdims=True)
        log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        return float(-log_probs[np.arange(len(self.labels)), self.labels].mean())


def numerical_gradient_cases(rng):
    """Args (f, x, h): f a callable of x returning a float, x float64, h the step."""
    n, k = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    logits = _normal(rng, (n, k), scale=2.0)
    x4 = (2, 3, int(rng.integers(2, 4)), 2)
    coupled = lambda shape: CoupledCubes(_normal(rng, shape), _normal(rng, shape))      # noqa: E731
    cases = [
        ("sum(g * x), linear", WeightedSum(_normal(rng, (n, k))), _normal(rng, (n, k)), 1e-6),
        ("a cubic with a large step: the central difference, not the derivative", coupled((n, k)),
         _normal(rng, (n, k)), 0.1),
        ("cross-entropy of logits", CrossEntropyOf(rng.integers(0, k, n)), logits, 1e-6),
        ("a 4-D x", coupled(x4), _normal(rng, x4), 1e-3),
        ("x with one element", coupled(1), _normal(rng, 1), 0.05),
    ]
    return [Case(f"{label}: x {shape_str(x.shape)}, h {h:g}", (f, x, h), NUMERICAL) for label, f, x, h in cases]


def numerical_dlogits_cases(rng):
    """Args (logits, labels); the estimate is compared with the exact gradient."""
    return _estimate_cases(softmax_cross_entropy_cases(rng))


# --- 03_linear_relu --------------------------------------------------------------------------

def _linear_cases(rng):
    n, d, m = (int(v) for v in rng.integers(2, 7, size=3))
    out = []
    for label, (n_, d_, m_), dtype in [("random", (n, d, m), F64), ("batch of 1", (1, d, m), F64),
                                       ("float32", (n, d, m), F32), ("one output feature", (n, d, 1), F64)]:
        x, w, b = _normal(rng, (n_, d_), dtype), _normal(rng, (m_, d_), dtype), _normal(rng, m_, dtype)
        dout = _normal(rng, (n_, m_), dtype)
        out.append((f"{label}: x {shape_str(x.shape)}, w {shape_str(w.shape)}, {np.dtype(dtype).name}", x, w, b, dout))
    return out


def linear_forward_cases(rng):
    """Args (x, w, b)."""
    return [Case(label, (x, w, b)) for label, x, w, b, _ in _linear_cases(rng)]


def linear_backward_cases(rng):
    """Args (dout, x, w)."""
    return [Case(label, (dout, x, w)) for label, x, w, _, dout in _linear_cases(rng)]


def linear_numerical_grads_cases(rng):
    """Args (dout, x, w, b); the estimates are compared with the exact gradients."""
    return _estimate_cases([Case(label, (dout, x, w, b)) for label, x, w, b, dout in _linear_cases(rng)])


def _relu_cases(rng, zeros=True):
    """(label, x). With zeros=False the first case has random values instead of exact zeros, at which
    a numerical derivative measures half of each side."""
    n, d = int(rng.integers(3, 6)), int(rng.integers(4, 8))
    with_zeros = np.round(_normal(rng, (n, d)) * 2) / 2          # multiples of 0.5: many exact zeros
    with_zeros[0, 0] = 0.0
    return [
        ("values with exact zeros, where the gradient is 0", with_zeros) if zeros else
        ("random values", _normal(rng, (n, d))),
        ("float32 feature map", _normal(rng, (2, 3, n, d), F32)),
        ("all negative", -np.abs(_normal(rng, (n, d))) - 0.1),
    ]


def relu_forward_cases(rng):
    """Args (x,)."""
    return [Case(f"{label}: x {shape_str(x.shape)} {x.dtype}", (x,)) for label, x in _relu_cases(rng)]


def relu_backward_cases(rng):
    """Args (dout, x)."""
    return [Case(f"{label}: x {shape_str(x.shape)} {x.dtype}", (_normal(rng, x.shape, x.dtype), x))
            for label, x in _relu_cases(rng)]


def relu_numerical_grad_cases(rng):
    """Args (dout, x), x without exact zeros; the estimate is compared with the exact gradient."""
    return _estimate_cases([Case(f"{label}: x {shape_str(x.shape)} {x.dtype}", (_normal(rng, x.shape, x.dtype), x))
                            for label, x in _relu_cases(rng, zeros=False)])


# --- 04_conv_forward and 05_conv_backward ----------------------------------------------------

def _conv_geometries(rng):
    """(label, N, C, H, W, O, k, stride, padding, dtype). Cases 2, 3 and 4 use padding."""
    odd = lambda: int(rng.choice([7, 9]))                        # noqa: E731
    h = int(rng.integers(5, 8))
    return [
        ("3x3 filters", 2, 3, h, h, int(rng.integers(2, 5)), 3, 1, 0, F64),
        ("padding", 2, 2, h, h + 1, 3, 3, 1, 1, F64),
        ("stride and padding", 2, 3, odd(), odd(), 2, 3, 2, 1, F64),
        ("batch of 1, one channel, 5x5 filters", 1, 1, h, h, 2, 5, 1, 2, F64),
        ("float32", 2, 2, h, h, 3, 3, 1, 0, F32),
        ("non-square input, 2x2 filters", 2, 2, h, h + 2, 2, 2, 2, 0, F64),
    ]


def _conv_cases(rng):
    out = []
    for label, N, C, H, W, O, k, s, p, dtype in _conv_geometries(rng):
        x, w, b = _normal(rng, (N, C, H, W), dtype), _normal(rng, (O, C, k, k), dtype), _normal(rng, O, dtype)
        Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
        dout = _normal(rng, (N, O, Ho, Wo), dtype)
        text = (f"{label}: x {shape_str(x.shape)}, w {shape_str(w.shape)}, stride {s}, padding {p}, "
                f"{np.dtype(dtype).name}")
        out.append((text, x, w, b, s, p, dout))
    return out


def conv_forward_cases(rng):
    """Args (x, w, b, stride, padding)."""
    return [Case(label, (x, w, b, s, p)) for label, x, w, b, s, p, _ in _conv_cases(rng)]


def conv_backward_cases(rng):
    """Args (dout, x, w, b, stride, padding)."""
    return [Case(label, (dout, x, w, b, s, p)) for label, x, w, b, s, p, dout in _conv_cases(rng)]


def conv_numerical_grads_cases(rng):
    """Args (dout, x, w, b, stride, padding); the estimates are compared with the exact gradients."""
    return _estimate_cases(conv_backward_cases(rng))


def _unfold_cases(rng):
    """(label, x, cols, k, stride): an input and a matrix of columns of the shape im2col gives it."""
    h = int(rng.integers(5, 8))
    odd = int(rng.choice([7, 9]))
    geometries = [
        ("3x3 windows, stride 1", 2, 2, h, h + 1, 3, 1, F64),
        ("stride 2", 2, 3, odd, odd, 3, 2, F64),
        ("1x1 windows", 2, 3, h, h, 1, 1, F64),
        ("one window covers the whole input", 2, 2, 4, 4, 4, 1, F64),
        ("stride larger than the window, gaps between windows", 1, 2, 7, 8, 2, 3, F64),
        ("batch of 1, one channel, float32", 1, 1, h, h, 3, 1, F32),
    ]
    out = []
    for label, N, C, H, W, k, s, dtype in geometries:
        x = _normal(rng, (N, C, H, W), dtype)
        Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
        cols = _normal(rng, (N, C * k * k, Ho * Wo), dtype)
        out.append((f"{label}: x {shape_str(x.shape)}, k {k}, stride {s}, {np.dtype(dtype).name}", x, cols, k, s))
    return out


def im2col_cases(rng):
    """Args (x, k, stride)."""
    return [Case(label, (x, k, s)) for label, x, cols, k, s in _unfold_cases(rng)]


def col2im_cases(rng):
    """Args (cols, x_shape, k, stride)."""
    return [Case(label, (cols, x.shape, k, s)) for label, x, cols, k, s in _unfold_cases(rng)]


def adjoint_test_cases(rng):
    """Args (x, cols, k, stride)."""
    return [Case(label, (x, cols, k, s)) for label, x, cols, k, s in _unfold_cases(rng)]


# --- 06_pooling ------------------------------------------------------------------------------

def _pool_cases(rng, ties=True):
    """(label, x, k, stride, dout). With ties=False the case with ties is left out: a numerical
    derivative at a tie measures half of each side, not the first maximum's share."""
    even = int(rng.choice([4, 6]))
    h = int(rng.integers(5, 8))
    geometries = [
        ("2x2 windows", 2, 3, even, even, 2, 2, F64, False),
        ("overlapping 3x3 windows", 2, 2, h, h + 1, 3, 2, F64, False),
        ("overlapping 2x2 windows", 1, 2, h, h, 2, 1, F64, False),
        ("ties, the first maximum gets the gradient", 2, 2, even, even, 2, 2, F64, True),
        ("float32", 2, 2, even, even, 2, 2, F32, False),
        ("batch of 1, odd size, last row and column dropped", 1, 1, 5, 5, 2, 2, F64, False),
    ]
    out = []
    for label, N, C, H, W, k, s, dtype, tied in geometries:
        if tied and not ties:
            continue
        if tied:
            x = rng.integers(0, 3, (N, C, H, W)).astype(dtype)
        else:
            x = _normal(rng, (N, C, H, W), dtype)
        Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
        dout = _normal(rng, (N, C, Ho, Wo), dtype)
        out.append((f"{label}: x {shape_str(x.shape)}, k {k}, stride {s}, {np.dtype(dtype).name}", x, k, s, dout))
    return out


def maxpool_forward_cases(rng):
    """Args (x, k, stride)."""
    return [Case(label, (x, k, s)) for label, x, k, s, _ in _pool_cases(rng)]


def maxpool_backward_cases(rng):
    """Args (dout, x, k, stride)."""
    return [Case(label, (dout, x, k, s)) for label, x, k, s, dout in _pool_cases(rng)]


def maxpool_numerical_grad_cases(rng):
    """Args (dout, x, k, stride), without ties; the estimate is compared with the exact gradient."""
    return _estimate_cases([Case(label, (dout, x, k, s)) for label, x, k, s, dout in _pool_cases(rng, ties=False)])


# --- 07_batchnorm ----------------------------------------------------------------------------

def _bn_cases(rng):
    """Cases 1-3 in training mode, 4-6 in evaluation mode."""
    c, h = int(rng.integers(2, 5)), int(rng.integers(3, 5))
    out = []
    for label, N, dtype, momentum, train in [
            ("training mode", 4, F64, 0.1, True), ("training mode, float32", 3, F32, 0.1, True),
            ("training mode, batch of 1, momentum 0.5", 1, F64, 0.5, True),
            ("evaluation mode", 4, F64, 0.1, False), ("evaluation mode, float32", 3, F32, 0.1, False),
            ("evaluation mode, batch of 1", 1, F64, 0.1, False)]:
        x = _normal(rng, (N, c, h, h + 1), dtype, scale=3.0, shift=2.0)
        gamma, beta = _normal(rng, c, dtype, 0.5, 1.0), _normal(rng, c, dtype)
        running_mean = _normal(rng, c, dtype, shift=1.0)
        running_var = rng.uniform(0.5, 4.0, c).astype(dtype)
        dout = _normal(rng, x.shape, dtype)
        text = f"{label}: x {shape_str(x.shape)}, {np.dtype(dtype).name}"
        out.append((text, x, gamma, beta, running_mean, running_var, momentum, 1e-5, train, dout))
    return out


def batchnorm_forward_cases(rng):
    """Args (x, gamma, beta, running_mean, running_var, momentum, eps, train)."""
    return [Case(label, (x, g, b, rm, rv, mom, eps, train))
            for label, x, g, b, rm, rv, mom, eps, train, _ in _bn_cases(rng)]


def batchnorm_backward_cases(rng):
    """Args (dout, x, gamma, running_mean, running_var, eps, train)."""
    return [Case(label, (dout, x, g, rm, rv, eps, train))
            for label, x, g, b, rm, rv, mom, eps, train, dout in _bn_cases(rng)]


def batchnorm_numerical_grads_cases(rng):
    """Args (dout, x, gamma, running_mean, running_var, eps, train); compared with the exact gradients."""
    return _estimate_cases(batchnorm_backward_cases(rng))


# --- 08_lenet and 12_inside_the_network ------------------------------------------------------

def lenet_parameter_counts_cases(rng):
    """Args (in_channels, image_size, width)."""
    sizes = [
        ("grayscale images, width 1", 1, int(rng.integers(20, 49)), 1),
        ("grayscale images, a wider network", 1, int(rng.integers(20, 49)), int(rng.integers(2, 5))),
        ("color images", 3, int(rng.integers(20, 49)), int(rng.integers(1, 4))),
        ("an image size whose second pooling drops a row", int(rng.integers(1, 3)), int(rng.choice([30, 34, 38])), 1),
        ("tiny images: fc1 sees a 1x1 grid", int(rng.integers(1, 4)), int(rng.choice([12, 13])),
         int(rng.integers(1, 4))),
    ]
    return [Case(f"{label}: {c} channel{'s' if c > 1 else ''}, {s}x{s}, width {w}", (c, s, w))
            for label, c, s, w in sizes]


def _random_lenet_params(rng, in_channels, image_size, width):
    """An untrained LeNet-BN's state: He-scaled weights, and BatchNorm parameters and running statistics
    away from their initial 1 and 0, so that evaluation mode matters."""
    params = {}
    for layer, arrays in lenet_shapes(in_channels, image_size, width).items():
        for name, shape in arrays.items():
            if name == "weight" and len(shape) > 1:
                value = _normal(rng, shape, scale=np.sqrt(2 / np.prod(shape[1:])))
            elif name == "running_var":
                value = rng.uniform(0.5, 2.0, shape)
            else:
                value = _normal(rng, shape, scale=0.3, shift=1.0 if name == "weight" else 0.0)
            params[f"{layer}.{name}"] = value.astype(F32)
    return params


def _lenet_cases(rng):
    """(label, x, params): float32 images and the state of a LeNet-BN, trained or not, of various sizes."""
    trained = lenet_bn(pretrained=True).state_dict()
    n = int(rng.integers(2, 5))
    return [
        ("the trained LeNet-BN", _normal(rng, (n, 1, 28, 28), F32), trained),
        ("the trained LeNet-BN, batch of 1", _normal(rng, (1, 1, 28, 28), F32), trained),
        ("an untrained LeNet-BN with its own running statistics", _normal(rng, (n, 1, 28, 28), F32),
         _random_lenet_params(rng, 1, 28, 1)),
        ("a wider LeNet-BN (width 2)", _normal(rng, (n, 1, 28, 28), F32), _random_lenet_params(rng, 1, 28, 2)),
        ("3-channel 32x32 images", _normal(rng, (n, 3, 32, 32), F32), _random_lenet_params(rng, 3, 32, 1)),
    ]


def lenet_forward_cases(rng):
    """Args (x, params)."""
    return [Case(f"{label}: x {shape_str(x.shape)}", (x, params)) for label, x, params in _lenet_cases(rng)]


def saliency_cases(rng):
    """Args (x, targets, params): LeNet-BN itself (1 x 28 x 28 images, width 1), trained or not. Each
    target is a class other than the predicted one: for a class the network is sure of, 1 - p rounds
    badly in float32, and the loss's gradient with it."""
    trained = lenet_bn(pretrained=True).state_dict()
    untrained = _random_lenet_params(rng, 1, 28, 1)
    n = int(rng.integers(2, 5))
    cases = []
    for label, x, params in [("the trained LeNet-BN", _normal(rng, (n, 1, 28, 28), F32), trained),
                             ("the trained LeNet-BN, batch of 1", _normal(rng, (1, 1, 28, 28), F32), trained),
                             ("an untrained LeNet-BN with its own running statistics",
                              _normal(rng, (n, 1, 28, 28), F32), untrained)]:
        predicted = lenet_forward(x, params).argmax(axis=1)
        targets = (predicted + rng.integers(1, 10, len(x))) % 10
        cases.append(Case(f"{label}, targets other than the predicted classes: x {shape_str(x.shape)}",
                          (x, targets, params)))
    return cases


# --- 09_optimizers ---------------------------------------------------------------------------

def sgd_momentum_step_cases(rng):
    """Args (w, dw, velocity, lr, momentum, weight_decay)."""
    shape = tuple(int(v) for v in rng.integers(2, 6, size=2))
    out = []
    for label, dtype, shp, zero_v, momentum, wd in [
            ("momentum 0.9", F64, shape, False, 0.9, 0.0), ("first step, velocity all zeros", F64, shape, True, 0.9, 0.0),
            ("plain SGD, momentum 0", F64, shape, False, 0.0, 0.0), ("weight decay 0.01", F64, shape, False, 0.9, 0.01),
            ("float32 conv weights", F32, (3, 2, 3, 3), False, 0.9, 0.0)]:
        w, dw = _normal(rng, shp, dtype), _normal(rng, shp, dtype)
        v = np.zeros(shp, dtype) if zero_v else _normal(rng, shp, dtype, 0.1)
        lr = float(np.round(rng.uniform(0.01, 0.1), 3))
        out.append(Case(f"{label}: w {shape_str(shp)} {np.dtype(dtype).name}, lr {lr}", (w, dw, v, lr, momentum, wd)))
    return out


def adam_step_cases(rng):
    """Args (w, dw, m, v, t, lr, beta1, beta2, eps, weight_decay)."""
    shape = tuple(int(s) for s in rng.integers(2, 6, size=2))
    out = []
    for label, dtype, shp, t, betas, wd in [
            ("first step, t = 1 and m = v = 0", F64, shape, 1, (0.9, 0.999), 0.0),
            ("step 10 with running moments", F64, shape, 10, (0.9, 0.999), 0.0),
            ("weight decay 0.01", F64, shape, 5, (0.9, 0.999), 0.01),
            ("float32 conv weights", F32, (3, 2, 3, 3), 3, (0.9, 0.999), 0.0),
            ("betas 0.8 and 0.99", F64, shape, 4, (0.8, 0.99), 0.0)]:
        w, dw = _normal(rng, shp, dtype), _normal(rng, shp, dtype)
        if t == 1:
            m, v = np.zeros(shp, dtype), np.zeros(shp, dtype)
        else:
            m, v = _normal(rng, shp, dtype, 0.1), rng.uniform(0.001, 0.1, shp).astype(dtype)
        lr = float(np.round(rng.uniform(0.001, 0.01), 4))
        out.append(Case(f"{label}: w {shape_str(shp)} {np.dtype(dtype).name}, lr {lr}",
                        (w, dw, m, v, t, lr, betas[0], betas[1], 1e-8, wd)))
    return out


# --- 10_metrics ------------------------------------------------------------------------------

def accuracy_cases(rng):
    """Args (logits, y_true)."""
    n, k = int(rng.integers(20, 40)), 10
    random = _normal(rng, (n, k))
    ties = rng.integers(0, 2, (n, k)).astype(F64)                # many rows with several equal maxima
    single = _normal(rng, (1, k))
    right = _normal(rng, (n, k))
    out = []
    for label, z, y in [("random", random, rng.integers(0, k, n)),
                        ("ties, the first largest logit is the prediction", ties,
                         rng.integers(0, k, n)),
                        ("batch of 1", single, rng.integers(0, k, 1)),
                        ("every prediction right", right, right.argmax(axis=1))]:
        out.append(Case(f"{label}: logits {shape_str(z.shape)}", (z, y)))
    return out


def confusion_matrix_cases(rng):
    """Args (y_true, y_pred, num_classes)."""
    n = int(rng.integers(30, 60))
    missing = rng.integers(0, 4, n)                              # class 4 never occurs nor is predicted
    right = rng.integers(0, 4, n)
    cases = [("10 classes", rng.integers(0, 10, n), rng.integers(0, 10, n), 10),
             ("5 classes, one of which never occurs", missing, rng.integers(0, 4, n), 5),
             ("batch of 1", rng.integers(0, 3, 1), rng.integers(0, 3, 1), 3),
             ("every prediction right", right, right.copy(), 4)]
    return [Case(f"{label}: {y.shape[0]} example{'s' if y.shape[0] != 1 else ''}", (y, p, k))
            for label, y, p, k in cases]



# --- debugging: each case shows the function's planted bug ---------------------------------------

def debug_softmax_cases(rng):
    """Args (z,): every batch has rows whose logits lie hundreds apart."""
    out = []
    for label, n, dtype in [("rows far apart", int(rng.integers(3, 6)), F64), ("batch of 2", 2, F64),
                            ("float32", int(rng.integers(3, 6)), F32)]:
        k = int(rng.integers(4, 9))
        offsets = np.where(np.arange(n) % 2 == 0, 0.0, rng.uniform(800, 1000))   # exp(-745) is 0 in float64
        z = (_normal(rng, (n, k), scale=3.0) + offsets[:, None]).astype(dtype)
        out.append(Case(f"{label}: z {shape_str(z.shape)} {np.dtype(dtype).name}", (z,)))
    return out


def debug_dlogits_cases(rng):
    """Args (logits, labels): batches of 2 or more."""
    return [c for c in softmax_cross_entropy_cases(rng) if c.args[0].shape[0] > 1]


def debug_linear_dw_cases(rng):
    """Args (dout, x, w): square weights (M = D), so a transposed dw has the right shape."""
    out = []
    for label, n, m, dtype in [("square weights", int(rng.integers(3, 6)), int(rng.integers(2, 5)), F64),
                               ("batch of 1", 1, int(rng.integers(2, 5)), F64),
                               ("float32", int(rng.integers(3, 6)), int(rng.integers(2, 5)), F32)]:
        x, w, dout = _normal(rng, (n, m), dtype), _normal(rng, (m, m), dtype), _normal(rng, (n, m), dtype)
        out.append(Case(f"{label}: x {shape_str(x.shape)}, w {shape_str(w.shape)}, {np.dtype(dtype).name}",
                        (dout, x, w)))
    return out


def debug_conv_dx_cases(rng):
    """Args (dout, x, w, stride, padding): overlapping windows (stride < k) in every case."""
    return [Case(c.label, (c.args[0], c.args[1], c.args[2], *c.args[4:])) for c in conv_backward_cases(rng)
            if c.args[4] < c.args[2].shape[2]]


def debug_maxpool_dx_cases(rng):
    """Args (dout, x, k, stride): inputs of small integers, so that many windows have tied maxima."""
    out = []
    for label, shape, k, s, dtype in [("2x2 windows", (2, 2, 4, 6), 2, 2, F64),
                                      ("overlapping 3x3 windows", (1, 2, 7, 7), 3, 2, F64),
                                      ("float32", (2, 3, 4, 4), 2, 2, F32)]:
        x = rng.integers(0, 3, shape).astype(dtype)
        Ho, Wo = (shape[2] - k) // s + 1, (shape[3] - k) // s + 1
        dout = _normal(rng, (shape[0], shape[1], Ho, Wo), dtype)
        out.append(Case(f"{label}, integer inputs: x {shape_str(shape)}, k {k}, stride {s}, "
                        f"{np.dtype(dtype).name}", (dout, x, k, s)))
    return out


def debug_batchnorm_forward_cases(rng):
    """Args (x, gamma, beta, eps): feature maps as wide as they have channels (W = C)."""
    out = []
    for label, n, c, dtype in [("4 channels", 4, 4, F64), ("batch of 1, 3 channels", 1, 3, F64),
                               ("float32, 2 channels", 3, 2, F32)]:
        x = _normal(rng, (n, c, int(rng.integers(3, 6)), c), dtype, scale=3.0, shift=2.0)
        gamma, beta = _normal(rng, c, dtype, 0.5, 1.0), _normal(rng, c, dtype)
        out.append(Case(f"{label}: x {shape_str(x.shape)}, {np.dtype(dtype).name}", (x, gamma, beta, 1e-5)))
    return out
