"""pydl's fused LSTM and GRU against PyTorch's (when installed): the same weights, mapped from
Keras's layout and gate order to PyTorch's, give the same outputs and the same gradients."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.models import Sequential

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch==2.13.0)")

U, T, F = 5, 7, 3


def _data():
    rng = np.random.default_rng(0)
    return rng.standard_normal((4, T, F)).astype(np.float32), rng.standard_normal((4, U)).astype(np.float32)


def _compare(model, cell, x, target):
    xt = torch.tensor(x)
    out, _ = cell(xt)
    loss = ((out[:, -1] - torch.tensor(target)) ** 2).mean()
    loss.backward()
    p = model(pydl.tensor(x), training=True)
    d = p - pydl.tensor(target)
    mine = (d * d).mean()
    mine.backward()
    np.testing.assert_allclose(p.detach().numpy(), out[:, -1].detach().numpy(), rtol=1e-5, atol=1e-6)
    assert float(mine.item()) == pytest.approx(loss.item(), rel=1e-5)
    return model.layers[0]


def test_lstm_matches_pytorch():
    x, target = _data()
    torch.manual_seed(0)
    cell = torch.nn.LSTM(F, U, batch_first=True)
    model = Sequential([L.LSTM(U, input_shape=(T, F))])
    # Keras and PyTorch order the gates alike (input, forget, cell, output); Keras's W is PyTorch's transposed
    model.layers[0].set_weights([cell.weight_ih_l0.detach().numpy().T, cell.weight_hh_l0.detach().numpy().T,
                                 (cell.bias_ih_l0 + cell.bias_hh_l0).detach().numpy()])
    lstm = _compare(model, cell, x, target)
    np.testing.assert_allclose(lstm.kernel.grad.numpy(), cell.weight_ih_l0.grad.numpy().T, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(lstm.recurrent_kernel.grad.numpy(), cell.weight_hh_l0.grad.numpy().T, rtol=1e-4,
                               atol=1e-7)
    np.testing.assert_allclose(lstm.bias.grad.numpy(), cell.bias_ih_l0.grad.numpy(), rtol=1e-4, atol=1e-7)


def _keras_from_torch_gates(a):
    """PyTorch's GRU gate blocks (r, z, n) -> Keras's (z, r, h), along the first axis."""
    r, z, n = np.split(a, 3, axis=0)
    return np.concatenate([z, r, n], axis=0)


def test_gru_reset_after_matches_pytorch():
    x, target = _data()
    torch.manual_seed(1)
    cell = torch.nn.GRU(F, U, batch_first=True)  # PyTorch's GRU applies the reset gate after the matmul
    model = Sequential([L.GRU(U, input_shape=(T, F))])
    w = _keras_from_torch_gates(cell.weight_ih_l0.detach().numpy()).T
    u = _keras_from_torch_gates(cell.weight_hh_l0.detach().numpy()).T
    b = np.stack([_keras_from_torch_gates(cell.bias_ih_l0.detach().numpy()),
                  _keras_from_torch_gates(cell.bias_hh_l0.detach().numpy())])
    model.layers[0].set_weights([w, u, b])
    gru = _compare(model, cell, x, target)
    np.testing.assert_allclose(gru.kernel.grad.numpy(), _keras_from_torch_gates(cell.weight_ih_l0.grad.numpy()).T,
                               rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gru.recurrent_kernel.grad.numpy(),
                               _keras_from_torch_gates(cell.weight_hh_l0.grad.numpy()).T, rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(gru.bias.grad.numpy()[1], _keras_from_torch_gates(cell.bias_hh_l0.grad.numpy()),
                               rtol=1e-4, atol=1e-7)
