import numpy as np

from fmcnn.gradcheck import normwise_error, numerical_gradient, rel_error


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    g = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_allclose(g, 3 * x ** 2, rtol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 3.0])   # x is restored


def test_errors_detect_a_wrong_gradient():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0 and normwise_error(a, a) == 0
    assert rel_error(a, a * 1.01) > 1e-3 and normwise_error(a, a * 1.01) > 1e-3
