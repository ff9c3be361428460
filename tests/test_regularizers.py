import numpy as np
import pytest

import pydl
from pydl import regularizers as R


def test_l1_l2_values_and_gradients_match_numpy():
    w_np = np.array([[0.5, -2.0], [1.5, 0.0]])
    w = pydl.tensor(w_np, dtype=pydl.float64, requires_grad=True)
    r = R.l1_l2(l1=0.1, l2=0.01)
    loss = r(w)
    assert loss.item() == pytest.approx(0.1 * np.abs(w_np).sum() + 0.01 * (w_np ** 2).sum())
    loss.backward()
    np.testing.assert_allclose(w.grad.numpy(), 0.1 * np.sign(w_np) + 0.02 * w_np)


def test_named_constructors_and_config():
    assert R.get("l2").l2 == pytest.approx(0.01)
    assert R.l1(0.3).get_config() == {"l1": 0.3}
    back = R.deserialize(R.serialize(R.L1L2(0.1, 0.2)))
    assert (back.l1, back.l2) == (0.1, 0.2)
    with pytest.raises(ValueError, match="l1_l2"):
        R.get("l3")
