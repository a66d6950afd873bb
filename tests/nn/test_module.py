import numpy as np
import pytest

from fmcnn.models import lenet_bn
from fmcnn.nn import BatchNorm2D, Conv2D, Linear


@pytest.mark.parametrize("layer,shape", [(Conv2D(1, 2, 3, rng=0), (1, 1, 5, 5)),
                                         (BatchNorm2D(2), (2, 2, 3, 3)),
                                         (Linear(4, 3, rng=0), (2, 4))])
def test_an_input_of_another_dtype_than_the_layer_is_refused_with_the_fix(layer, shape):
    # One dtype per model (Module.to): the formulas need no casts, and a float64 batch
    # cannot silently meet float32 weights.
    with pytest.raises(TypeError, match=r"float32 but got a float64 input.*astype\(np.float32\).*model.to\(np.float64\)"):
        layer(np.zeros(shape, np.float64))
    assert layer.to(np.float64)(np.ones(shape)).dtype == np.float64


def test_a_buffer_of_another_dtype_is_named():
    bn = BatchNorm2D(2).to(np.float64)
    bn.running_var = bn.running_var.astype(np.float32)
    with pytest.raises(TypeError, match="running_var as float32"):
        bn.eval()(np.zeros((1, 2, 3, 3)))


def test_to_casts_a_whole_model_so_float64_flows_through_every_layer():
    model = lenet_bn(0).to(np.float64)
    assert model(np.zeros((2, 1, 28, 28))).dtype == np.float64
    assert {p.grad.dtype for p in model.parameters()} == {np.dtype(np.float64)}
