"""LeakyReLU (pydl/layers/advanced_activations.py)."""
import numpy as np
import pytest

import pydl


def test_leaky_relu_layer():
    from pydl.layers import LeakyReLU
    x = np.array([[-2.0, -0.5, 0.0, 3.0]])
    np.testing.assert_allclose(LeakyReLU()(pydl.tensor(x)).numpy(), [[-0.6, -0.15, 0.0, 3.0]], rtol=1e-6)
    np.testing.assert_allclose(LeakyReLU(negative_slope=0.2)(pydl.tensor(x)).numpy(), [[-0.4, -0.1, 0.0, 3.0]],
                               rtol=1e-6)
    with pytest.warns(DeprecationWarning, match="alpha"):
        assert LeakyReLU(alpha=0.1).negative_slope == 0.1
    with pytest.raises(ValueError, match="negative_slope"):
        LeakyReLU(-1)
    with pytest.raises(TypeError, match="both negative_slope=0.1 and alpha=0.2"):
        LeakyReLU(negative_slope=0.1, alpha=0.2)
