"""Every graded exercise, as data: name, notebook, points, reference, cases, outputs, common mistakes.

The notebook checker and the class grader both read this table, so they judge
a function the same way. Visible cases (printed by ``fmcnn.check`` in the
notebooks) and hidden cases (used for grades) come from the same generator with
different seeds: same kinds of case, different sizes and values. A concept
question (:func:`question`) is an exercise too: a function of no argument that
returns a number, with one case, the same visible and hidden.
"""
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import cases as C
from . import mistakes as M
from . import reference as R
from .cases import copy_args
from .compare import as_outputs

#: Seeds mixed into every exercise's generator: 0 for the visible cases, 1 for the hidden ones.
VISIBLE_SEED, HIDDEN_SEED = 0, 1


@dataclass(frozen=True)
class Exercise:
    """One function a student writes.

    name: the function's name in the notebook (and in ``fmcnn.check(name, fn)``).
    notebook: the exercise notebook's file stem, e.g. ``"04_conv_forward"``.
    points: what the exercise is worth; each hidden case earns an equal share.
    reference: the reference implementation, same signature as the student's.
    make_cases: ``rng -> list[Case]``; always the same kinds of case in the same order.
    outputs: ``{output name: dtype rule}`` in return order; the rule is "same"
        (the reference's dtype exactly), "float" or "int" (any of that kind).
    mistakes: the common mistakes whose cause ``fmcnn.check`` names when an output has
        their signature (:mod:`.mistakes`), in the order they are tried.
    """

    name: str
    notebook: str
    points: int
    reference: Callable
    make_cases: Callable
    outputs: dict
    mistakes: tuple = ()

    @property
    def question(self):
        """True for a concept question: a function of no argument that returns one number."""
        return self.outputs == {"answer": "answer"}

    @property
    def output_names(self):
        return tuple(self.outputs)

    @property
    def output_rules(self):
        return tuple(self.outputs.values())

    def cases(self, hidden=False, seed=None):
        """The visible (default) or hidden cases. ``seed`` overrides the hidden/visible seed."""
        if seed is None:
            seed = HIDDEN_SEED if hidden else VISIBLE_SEED
        return self.make_cases(np.random.default_rng([zlib.crc32(self.name.encode()), seed]))

    def expected(self, case):
        """Reference outputs for one case: a list of arrays, one per output."""
        return as_outputs(self.reference(*copy_args(case.args)), self.output_names)


_SAME = {"out": "same"}
_ESTIMATES = {"dx": "float", "dw": "float", "db": "float"}


def question(answer, notebook, rtol=0.0):
    """A concept question worth 1 point: the student's function, named like ``answer`` (a function of
    :mod:`.reference`), returns one number, right within ``rtol`` (relative; 0: exactly).
    The check says only whether it is right, never what the answer is."""
    return Exercise(answer.__name__, notebook, 1, answer, C.answer_cases(rtol), {"answer": "answer"})


#: All exercises in course order: {name: Exercise}. Each entry names its reference and its case
#: generator (``fmcnn.exercises.reference`` and ``fmcnn.exercises.cases``) explicitly.
EXERCISES = {e.name: e for e in [
    Exercise("parse_idx", "01_data", 2, R.parse_idx, C.parse_idx_cases, {"array": "same"}),
    question(R.q_labels_file_bytes, "01_data"),
    Exercise("softmax", "02_softmax", 2, R.softmax, C.softmax_cases, {"probs": "same"}, M.SOFTMAX),
    Exercise("softmax_cross_entropy", "02_softmax", 3, R.softmax_cross_entropy, C.softmax_cross_entropy_cases,
             {"loss": "float", "dlogits": "same"}, M.SOFTMAX_CROSS_ENTROPY),
    question(R.q_uniform_loss, "02_softmax", rtol=1e-3),
    Exercise("numerical_gradient", "02_softmax", 2, R.numerical_gradient, C.numerical_gradient_cases,
             {"grad": "float"}, M.NUMERICAL_GRADIENT),
    question(R.q_central_difference_error, "02_softmax"),
    Exercise("numerical_dlogits", "02_softmax", 1, R.numerical_dlogits, C.numerical_dlogits_cases,
             {"dlogits": "float"}, M.float32_estimates("dlogits")),
    Exercise("linear_forward", "03_linear_relu", 2, R.linear_forward, C.linear_forward_cases, _SAME,
             M.LINEAR_FORWARD),
    Exercise("linear_backward", "03_linear_relu", 3, R.linear_backward, C.linear_backward_cases,
             {"dx": "same", "dw": "same", "db": "same"}, M.LINEAR_BACKWARD),
    Exercise("linear_numerical_grads", "03_linear_relu", 1, R.linear_numerical_grads, C.linear_numerical_grads_cases,
             _ESTIMATES, M.float32_estimates(*_ESTIMATES)),
    Exercise("relu_forward", "03_linear_relu", 1, R.relu_forward, C.relu_forward_cases, _SAME),
    Exercise("relu_backward", "03_linear_relu", 1, R.relu_backward, C.relu_backward_cases, {"dx": "same"},
             M.RELU_BACKWARD),
    Exercise("relu_numerical_grad", "03_linear_relu", 1, R.relu_numerical_grad, C.relu_numerical_grad_cases,
             {"dx": "float"}, M.float32_estimates("dx")),
    question(R.q_relu_kink, "03_linear_relu"),
    Exercise("conv_forward_naive", "04_conv_forward", 4, R.conv_forward_naive, C.conv_forward_cases, _SAME,
             M.CONV_FORWARD),
    question(R.q_conv_output_size, "04_conv_forward"),
    Exercise("im2col", "04_conv_forward", 3, R.im2col, C.im2col_cases, {"cols": "same"}, M.IM2COL),
    question(R.q_im2col_size, "04_conv_forward"),
    Exercise("conv_forward", "04_conv_forward", 3, R.conv_forward, C.conv_forward_cases, _SAME, M.CONV_FORWARD),
    Exercise("col2im", "05_conv_backward", 3, R.col2im, C.col2im_cases, {"x": "same"}, M.COL2IM),
    question(R.q_windows_per_pixel, "05_conv_backward"),
    Exercise("adjoint_test", "05_conv_backward", 1, R.adjoint_test, C.adjoint_test_cases,
             {"im2col_side": "float", "col2im_side": "float"}),
    Exercise("conv_backward", "05_conv_backward", 6, R.conv_backward, C.conv_backward_cases,
             {"dx": "same", "dw": "same", "db": "same"}, M.CONV_BACKWARD),
    Exercise("conv_numerical_grads", "05_conv_backward", 1, R.conv_numerical_grads, C.conv_numerical_grads_cases,
             _ESTIMATES, M.float32_estimates(*_ESTIMATES)),
    Exercise("maxpool_forward", "06_pooling", 3, R.maxpool_forward, C.maxpool_forward_cases, _SAME),
    Exercise("maxpool_backward", "06_pooling", 4, R.maxpool_backward, C.maxpool_backward_cases, {"dx": "same"},
             M.MAXPOOL_BACKWARD),
    Exercise("maxpool_numerical_grad", "06_pooling", 1, R.maxpool_numerical_grad, C.maxpool_numerical_grad_cases,
             {"dx": "float"}, M.float32_estimates("dx")),
    question(R.q_pool_check_blind_spot, "06_pooling"),
    Exercise("batchnorm_forward", "07_batchnorm", 3, R.batchnorm_forward, C.batchnorm_forward_cases,
             {"out": "same", "running_mean": "same", "running_var": "same"}, M.BATCHNORM_FORWARD),
    Exercise("batchnorm_backward", "07_batchnorm", 5, R.batchnorm_backward, C.batchnorm_backward_cases,
             {"dx": "same", "dgamma": "same", "dbeta": "same"}, M.BATCHNORM_BACKWARD),
    Exercise("batchnorm_numerical_grads", "07_batchnorm", 1, R.batchnorm_numerical_grads,
             C.batchnorm_numerical_grads_cases, {"dx": "float", "dgamma": "float", "dbeta": "float"},
             M.float32_estimates("dx", "dgamma", "dbeta")),
    question(R.q_bn_dx_sum, "07_batchnorm"),
    Exercise("lenet_parameter_counts", "08_lenet", 2, R.lenet_parameter_counts, C.lenet_parameter_counts_cases,
             {"counts": "int"}, M.LENET_PARAMETER_COUNTS),
    Exercise("lenet_forward", "08_lenet", 3, R.lenet_forward, C.lenet_forward_cases, {"logits": "same"},
             M.LENET_FORWARD),
    question(R.q_receptive_field, "08_lenet"),
    Exercise("sgd_momentum_step", "09_optimizers", 2, R.sgd_momentum_step, C.sgd_momentum_step_cases,
             {"w": "same", "velocity": "same"}, M.SGD_MOMENTUM_STEP),
    question(R.q_momentum_speedup, "09_optimizers"),
    Exercise("adam_step", "09_optimizers", 3, R.adam_step, C.adam_step_cases, {"w": "same", "m": "same", "v": "same"},
             M.ADAM_STEP),
    question(R.q_adam_first_step, "09_optimizers", rtol=1e-2),
    Exercise("accuracy", "10_metrics", 1, R.accuracy_from_logits, C.accuracy_cases, {"accuracy": "float"}),
    Exercise("confusion_matrix", "10_metrics", 2, R.confusion_matrix, C.confusion_matrix_cases, {"counts": "int"},
             M.CONFUSION_MATRIX),
    question(R.q_constant_classifier, "10_metrics"),
    Exercise("score_saliency", "12_inside_the_network", 2, R.score_saliency, C.saliency_cases, {"saliency": "float"},
             M.SCORE_SALIENCY),
    Exercise("loss_saliency", "12_inside_the_network", 1, R.loss_saliency, C.saliency_cases, {"saliency": "float"},
             M.LOSS_SALIENCY),
    question(R.q_confident_gradient, "12_inside_the_network", rtol=1e-3),
    # The debugging notebook: functions with planted bugs. Their check names no cause: finding it is the exercise.
    Exercise("debug_softmax", "debugging", 1, R.debug_softmax, C.debug_softmax_cases, {"probs": "same"}),
    Exercise("debug_dlogits", "debugging", 1, R.debug_dlogits, C.debug_dlogits_cases, {"dlogits": "same"}),
    Exercise("debug_linear_dw", "debugging", 1, R.debug_linear_dw, C.debug_linear_dw_cases, {"dw": "same"}),
    Exercise("debug_conv_dx", "debugging", 1, R.debug_conv_dx, C.debug_conv_dx_cases, {"dx": "same"}),
    Exercise("debug_maxpool_dx", "debugging", 1, R.debug_maxpool_dx, C.debug_maxpool_dx_cases, {"dx": "same"}),
    Exercise("debug_batchnorm_forward", "debugging", 1, R.debug_batchnorm_forward, C.debug_batchnorm_forward_cases,
             _SAME),
    question(R.q_gradcheck_meaning, "debugging"),
]}

#: {notebook stem: [exercise names in the order they appear]}.
NOTEBOOKS = {}
for _e in EXERCISES.values():
    NOTEBOOKS.setdefault(_e.notebook, []).append(_e.name)

TOTAL_POINTS = sum(e.points for e in EXERCISES.values())


def get_exercise(name):
    """The :class:`Exercise` called ``name``; a KeyError lists the known names otherwise."""
    try:
        return EXERCISES[name]
    except KeyError:
        raise KeyError(f"unknown exercise {name!r}; the exercises are: {', '.join(EXERCISES)}") from None
