"""pydl.functional.conv2d_transpose: forward against a NumPy transcription (both backends, float32
and float64, every layout), gradcheck of x, weight and bias, the adjoint identity with conv2d,
a case by hand, and the errors for bad input."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from conftest import helper_test_op, random_inputs


def np_conv2d_transpose(x, w, b=None, stride=(1, 1), padding=(0, 0), output_padding=(0, 0), dilation=(1, 1),
                        groups=1):
    """Each input pixel stamps its kernel, scaled by the pixel, onto a full-size output at
    (i*sh + p*dh, j*sw + q*dw); then `padding` rows/columns are cut from each side."""
    n, cin, h, wd = x.shape
    _, og, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    full = np.zeros((n, og * groups, (h - 1) * sh + dh * (kh - 1) + 1 + output_padding[0],
                     (wd - 1) * sw + dw * (kw - 1) + 1 + output_padding[1]))
    cig = cin // groups
    for g in range(groups):
        xg, wg = x[:, g * cig:(g + 1) * cig], w[g * cig:(g + 1) * cig]
        for p in range(kh):
            for q in range(kw):
                full[:, g * og:(g + 1) * og, p * dh: p * dh + sh * (h - 1) + 1: sh,
                     q * dw: q * dw + sw * (wd - 1) + 1: sw] += np.einsum("ncij,co->noij", xg, wg[:, :, p, q])
    ho = (h - 1) * sh - 2 * padding[0] + dh * (kh - 1) + output_padding[0] + 1
    wo = (wd - 1) * sw - 2 * padding[1] + dw * (kw - 1) + output_padding[1] + 1
    y = full[:, :, padding[0]:padding[0] + ho, padding[1]:padding[1] + wo]
    return y if b is None else y + b.reshape(1, -1, 1, 1)


# (x shape, weight shape (C_in, C_out / groups, kh, kw), bias, stride, padding, output_padding, dilation, groups)
CASES = [
    ((2, 3, 4, 4), (3, 2, 3, 3), True, 1, 0, 0, 1, 1),
    ((1, 2, 3, 5), (2, 3, 3, 2), False, 2, 1, 1, 1, 1),
    ((2, 4, 3, 3), (4, 1, 3, 3), True, (2, 1), (1, 0), (1, 0), 1, 2),
    ((1, 3, 4, 3), (3, 1, 2, 3), True, (3, 2), (1, 2), (2, 1), (1, 2), 3),   # depthwise, dilated
    ((2, 2, 3, 3), (2, 4, 1, 1), True, 1, 0, 0, 1, 1),                       # 1x1
    ((1, 2, 2, 3), (2, 2, 3, 3), False, 1, 0, (1, 1), (2, 2), 1),             # output_padding < dilation
    # the DCGAN's 4x4 stride-2 upsampling at 16 channels (the fast kernel's gather path: the
    # forward by stride phases, no col2im), and a stride-3 one with phases that get no taps
    ((2, 16, 3, 3), (16, 16, 4, 4), True, 2, 1, 0, 1, 1),
    ((1, 16, 2, 3), (16, 17, 2, 2), False, 3, 0, 1, 1, 1),
]


@pytest.mark.parametrize("xs, ws, bias, stride, padding, output_padding, dilation, groups", CASES)
def test_conv2d_transpose_matches_numpy_with_gradients(xs, ws, bias, stride, padding, output_padding, dilation,
                                                       groups, backend):
    shapes = [xs, ws] + ([(ws[1] * groups,)] if bias else [])
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731

    def np_fn(x, w, b=None):
        return np_conv2d_transpose(x, w, b, pair(stride), pair(padding), pair(output_padding), pair(dilation),
                                   groups)

    def pydl_fn(x, w, b=None):
        return F.conv2d_transpose(x, w, b, stride=stride, padding=padding, output_padding=output_padding,
                                  dilation=dilation, groups=groups)

    helper_test_op(shapes, np_fn, pydl_fn)


def test_random_shapes_match_numpy(backend):
    rng = np.random.default_rng(11)
    for _ in range(40):
        groups = int(rng.integers(1, 4))
        cin, og = groups * int(rng.integers(1, 3)), int(rng.integers(1, 3))
        kh, kw = (int(v) for v in rng.integers(1, 4, size=2))
        sh, sw, dh, dw = (int(v) for v in rng.integers(1, 4, size=4))
        oph, opw = int(rng.integers(0, max(sh, dh))), int(rng.integers(0, max(sw, dw)))
        h, wd = (int(v) for v in rng.integers(1, 5, size=2))
        ph = int(rng.integers(0, ((h - 1) * sh + dh * (kh - 1) + oph) // 2 + 1))
        pw = int(rng.integers(0, ((wd - 1) * sw + dw * (kw - 1) + opw) // 2 + 1))
        x, w, b = random_inputs([(int(rng.integers(1, 3)), cin, h, wd), (cin, og, kh, kw), (og * groups,)],
                                seed=int(rng.integers(1 << 30)))
        want = np_conv2d_transpose(x, w, b, (sh, sw), (ph, pw), (oph, opw), (dh, dw), groups)
        for dtype, tol in ((pydl.float64, 1e-11), (pydl.float32, 1e-4)):
            got = F.conv2d_transpose(pydl.tensor(x, dtype=dtype), pydl.tensor(w, dtype=dtype),
                                     pydl.tensor(b, dtype=dtype), stride=(sh, sw), padding=(ph, pw),
                                     output_padding=(oph, opw), dilation=(dh, dw), groups=groups).numpy()
            np.testing.assert_allclose(got, want, rtol=tol, atol=tol)


def test_is_the_adjoint_of_conv2d(backend):
    # <conv2d_transpose(y, w), x> = <y, conv2d(x, w)> with the same w, stride, padding, dilation,
    # and conv2d_transpose maps conv2d's output shape back to its input shape (output_padding
    # giving back the rows the stride dropped).
    x, w = random_inputs([(2, 4, 9, 8), (6, 2, 3, 3)], seed=5)
    xt, wt = pydl.tensor(x, dtype=pydl.float64), pydl.tensor(w, dtype=pydl.float64)
    y = F.conv2d(xt, wt, stride=2, padding=1, dilation=(1, 2), groups=2)
    assert tuple(y.shape) == (2, 6, 5, 3)
    g = random_inputs([tuple(y.shape)], seed=6)[0]
    back = F.conv2d_transpose(pydl.tensor(g, dtype=pydl.float64), wt, stride=2, padding=1, output_padding=(0, 1),
                              dilation=(1, 2), groups=2).numpy()
    assert back.shape == x.shape
    np.testing.assert_allclose(np.sum(back * x), np.sum(g * y.numpy()), rtol=1e-12)


def test_stride_two_by_hand():
    # x = [[1, 2]], w = [[1, 10], [100, 1000]], stride 2: two stamps side by side, plus the bias.
    x = pydl.tensor([[[[1.0, 2.0]]]], dtype=pydl.float64)
    w = pydl.tensor([[[[1.0, 10.0], [100.0, 1000.0]]]], dtype=pydl.float64)
    y = F.conv2d_transpose(x, w, pydl.tensor([0.5], dtype=pydl.float64), stride=2).numpy()
    np.testing.assert_array_equal(y[0, 0], [[1.5, 10.5, 2.5, 20.5], [100.5, 1000.5, 200.5, 2000.5]])
    # padding (0, 1) crops one column from each side: the middle two columns remain.
    y = F.conv2d_transpose(x, w, stride=2, padding=(0, 1)).numpy()
    np.testing.assert_array_equal(y[0, 0], [[10.0, 2.0], [1000.0, 200.0]])


def test_backends_agree_on_gradients():
    x, w, b, g = random_inputs([(2, 4, 5, 4), (4, 3, 3, 3), (6,), (2, 6, 10, 8)], seed=3)  # (5-1)*2 - 2 + 3 + 1
    grads = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        xt, wt, bt = (pydl.tensor(v, dtype=pydl.float64, requires_grad=True) for v in (x, w, b))
        y = F.conv2d_transpose(xt, wt, bt, stride=2, padding=1, output_padding=1, groups=2)
        (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
        grads[backend] = [t.grad.numpy() for t in (xt, wt, bt)]
    for a, b_ in zip(grads["reference"], grads["fast"]):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("xs, ws, bs, kwargs, exc, words", [
    ((1, 3, 4, 4), (2, 2, 3, 3), None, {}, ValueError, ["conv2d_transpose", "(2, 2, 3, 3)", "(1, 3, 4, 4)"]),
    ((1, 2, 4, 4), (2, 2, 3, 3), None, {"stride": 2, "output_padding": 2}, ValueError,
     ["conv2d_transpose", "output_padding", "(2, 2)"]),
    ((1, 2, 4, 4), (2, 2, 3, 3), (3,), {}, ValueError, ["conv2d_transpose", "bias", "(2,)", "(3,)"]),
    ((1, 3, 4, 4), (3, 2, 3, 3), None, {"groups": 2}, ValueError, ["conv2d_transpose", "groups=2"]),
    ((1, 2, 4, 4), (2, 2, 3, 3), None, {"stride": 0}, ValueError, ["conv2d_transpose", "stride"]),
    ((1, 2, 1, 1), (2, 2, 1, 1), None, {"padding": 1}, ValueError, ["conv2d_transpose", "crops"]),
    ((2, 4, 4), (2, 2, 3, 3), None, {}, ValueError, ["conv2d_transpose", "4-D"]),
    ((1, 2, 4, 4), (2, 2, 3, 3), None, {"groups": 1.0}, TypeError, ["conv2d_transpose", "groups"]),
])
def test_bad_input_names_the_op_and_shapes(xs, ws, bs, kwargs, exc, words):
    x = pydl.zeros(xs)
    w = pydl.zeros(ws)
    b = None if bs is None else pydl.zeros(bs)
    with pytest.raises(exc) as info:
        F.conv2d_transpose(x, w, b, **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------- hypothesis: random geometries and layouts
from hypothesis import given, strategies as st  # noqa: E402
from conftest import LAYOUTS, make_tensor  # noqa: E402


@given(groups=st.integers(1, 3), cig=st.integers(1, 2), og=st.integers(1, 3), k=st.tuples(st.integers(1, 3),
       st.integers(1, 3)), s=st.tuples(st.integers(1, 3), st.integers(1, 3)), d=st.tuples(st.integers(1, 2),
       st.integers(1, 2)), hw=st.tuples(st.integers(1, 4), st.integers(1, 4)), data=st.data(),
       layout=st.sampled_from(LAYOUTS), fast=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_conv2d_transpose_hypothesis(groups, cig, og, k, s, d, hw, data, layout, fast, seed):
    op = tuple(data.draw(st.integers(0, max(si, di) - 1)) for si, di in zip(s, d))
    full = [(n - 1) * si + di * (ki - 1) + 1 + o for n, si, di, ki, o in zip(hw, s, d, k, op)]
    pad = tuple(data.draw(st.integers(0, (f - 1) // 2)) for f in full)
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2, groups * cig) + hw)
    w = rng.normal(size=(groups * cig, og) + k)
    b = rng.normal(size=(groups * og,))
    pydl.set_backend("fast" if fast else "reference")
    got = F.conv2d_transpose(make_tensor(x, layout), make_tensor(w, layout), make_tensor(b, layout), stride=s,
                             padding=pad, output_padding=op, dilation=d, groups=groups).numpy()
    np.testing.assert_allclose(got, np_conv2d_transpose(x, w, b, s, pad, op, d, groups), rtol=1e-11, atol=1e-11)
