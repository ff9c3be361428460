"""pydl.functional.conv1d (N, C, L): forward against a NumPy transcription, gradcheck, 'causal',
'same', 'valid', and bad input."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from conftest import helper_test_op, random_inputs


def np_conv1d(x, w, b=None, stride=1, pads=(0, 0), dilation=1, groups=1):
    """y[n, o, t] = b[o] + sum_{c, k} xp[n, group(o)*cg + c, t*stride + k*dilation] w[o, c, k]."""
    n, c, _ = x.shape
    o, cg, kk = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), pads))
    lo = (xp.shape[2] - dilation * (kk - 1) - 1) // stride + 1
    y = np.zeros((n, o, lo))
    og = o // groups
    for oc in range(o):
        c0 = (oc // og) * cg
        for k in range(kk):
            seg = xp[:, c0:c0 + cg, k * dilation: k * dilation + stride * (lo - 1) + 1: stride]  # (n, cg, lo)
            y[:, oc] += np.einsum("ncl,c->nl", seg, w[oc, :, k])
    return y if b is None else y + b[None, :, None]


CASES = [
    ((2, 3, 10), (4, 3, 3), True, 1, 0, (0, 0), 1, 1),
    ((1, 4, 11), (6, 2, 2), False, 2, 1, (1, 1), 1, 2),
    ((2, 2, 9), (2, 1, 3), True, 1, "causal", (4, 0), 2, 2),   # causal, dilated: 2 * (3 - 1) on the left
    ((1, 3, 8), (2, 3, 4), True, 3, "same", (1, 1), 1, 1),     # out ceil(8/3) = 3: total 2*3 + 4 - 8 = 2
    ((2, 2, 7), (3, 2, 2), False, (2,), "valid", (0, 0), (1,), 1),
    ((1, 2, 5), (2, 2, 4), False, 1, "same", (1, 2), 1, 1),     # even kernel: total 3, the extra zero on the right
]


@pytest.mark.parametrize("xs, ws, bias, stride, padding, pads, dilation, groups", CASES)
def test_conv1d_matches_numpy_with_gradients(xs, ws, bias, stride, padding, pads, dilation, groups, backend):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    one = lambda v: v[0] if isinstance(v, tuple) else v  # noqa: E731

    def np_fn(x, w, b=None):
        return np_conv1d(x, w, b, one(stride), pads, one(dilation), groups)

    def pydl_fn(x, w, b=None):
        return F.conv1d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    helper_test_op(shapes, np_fn, pydl_fn)


def test_same_padding_split():
    # L = 8, k = 4, stride 3: output ceil(8 / 3) = 3 positions need (3-1)*3 + 4 - 8 = 2 zeros: 1 left, 1 right
    x, w = random_inputs([(1, 3, 8), (2, 3, 4)])
    got = F.conv1d(pydl.tensor(x, dtype=pydl.float64), pydl.tensor(w, dtype=pydl.float64), stride=3,
                   padding="same").numpy()
    np.testing.assert_allclose(got, np_conv1d(x, w, None, 3, (1, 1)), rtol=1e-12)


def test_causal_output_sees_only_the_past(backend):
    # By hand: kernel (1, 10), dilation 1: y[t] = 1 * x[t - 1] + 10 * x[t], x[-1] = 0.
    x = pydl.tensor(np.arange(6.0).reshape(1, 1, 6), dtype=pydl.float64)
    w = pydl.tensor([[[1.0, 10.0]]], dtype=pydl.float64)
    np.testing.assert_array_equal(F.conv1d(x, w, padding="causal").numpy()[0, 0], [0, 10, 21, 32, 43, 54])
    # dilation 2, kernel 3: the output keeps the input length; changing x[t] changes no y[s < t]
    xr, wr = random_inputs([(1, 2, 12), (3, 2, 3)], seed=5)
    base = F.conv1d(pydl.tensor(xr), pydl.tensor(wr), padding="causal", dilation=2).numpy()
    assert base.shape == (1, 3, 12)
    xr2 = xr.copy()
    xr2[:, :, 7] += 1.0
    moved = F.conv1d(pydl.tensor(xr2), pydl.tensor(wr), padding="causal", dilation=2).numpy()
    np.testing.assert_array_equal(moved[:, :, :7], base[:, :, :7])
    assert np.all(moved[:, :, 7] != base[:, :, 7])


@pytest.mark.parametrize("xs, ws, kwargs, words", [
    ((3, 10), (2, 3, 3), {}, ["conv1d", "3-D", "(3, 10)"]),
    ((1, 3, 10), (2, 3, 3, 3), {}, ["conv1d", "3-D", "(2, 3, 3, 3)"]),
    ((1, 3, 10), (2, 2, 3), {}, ["conv1d", "(1, 3, 10)", "(2, 2, 3)"]),
    ((1, 3, 10), (2, 1, 3), {"groups": 2}, ["conv1d", "groups=2"]),
    ((1, 1, 4), (1, 1, 5), {}, ["conv1d", "larger", "(1, 1, 4)"]),
    ((1, 1, 4), (1, 1, 2), {"stride": 0}, ["conv1d", "stride"]),
    ((1, 1, 4), (1, 1, 2), {"dilation": -1}, ["conv1d", "dilation"]),
    ((1, 1, 4), (1, 1, 2), {"padding": "full"}, ["conv1d", "full"]),
])
def test_bad_input(xs, ws, kwargs, words):
    with pytest.raises(ValueError) as e:
        F.conv1d(pydl.zeros(xs), pydl.zeros(ws), **kwargs)
    for word in words:
        assert word in str(e.value), str(e.value)
    with pytest.raises(TypeError, match="conv1d"):
        F.conv1d(pydl.zeros((1, 1, 4)), pydl.zeros((1, 1, 2)), stride=(1, 2))
