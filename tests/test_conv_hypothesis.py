"""Property tests (hypothesis) of the convolution and pooling ops against NumPy transcriptions
written here, independently of the kernels: conv2d over random shapes, strides, paddings
('valid', 'same', ints), dilations and groups, forward and the gradients of x, weight and bias;
max_pool2d and avg_pool2d forward and input gradient; conv1d with padding='causal'.
Every example runs on both backends in float64."""
import numpy as np
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, assume, example, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import pydl  # noqa: E402
from pydl import functional as F  # noqa: E402

BACKENDS = ("reference", "fast")
SETTINGS = dict(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _t(a, **kwargs):
    return pydl.tensor(np.asarray(a, dtype=np.float64), dtype=pydl.float64, **kwargs)


def _pads_for(padding, size, k, stride, dil):
    """(before, after) zeros along one axis: Keras's 'same' (ceil(size / stride) outputs, the odd
    zero at the end), 'valid' none, an int on both sides."""
    if padding == "valid":
        return 0, 0
    if padding == "same":
        out = (size + stride - 1) // stride
        total = max(0, (out - 1) * stride + (k - 1) * dil + 1 - size)
        return total // 2, total - total // 2
    return padding, padding


def ref_conv2d(x, w, b, stride, pads, dil, groups):
    """The seven loops of the slide, written directly (batch, out channel, out row, out col,
    in channel of the group, kernel row, kernel col), over the zero-padded input."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    ho = (h + pt + pb - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + pl + pr - dil[1] * (kw - 1) - 1) // stride[1] + 1
    og = o // groups
    y = np.zeros((n, o, ho, wo))
    for oc in range(o):
        g = oc // og
        for i in range(ho):
            for j in range(wo):
                acc = np.zeros(n)
                for ci in range(cg):
                    for p in range(kh):
                        for q in range(kw):
                            acc += w[oc, ci, p, q] * xp[:, g * cg + ci, i * stride[0] + p * dil[0],
                                                        j * stride[1] + q * dil[1]]
                y[:, oc, i, j] = acc + (b[oc] if b is not None else 0.0)
    return y


def ref_conv2d_grads(x, w, g_out, stride, pads, dil, groups):
    """d(sum(y * g_out)) / dx, dw, db from the same loops: each product w * xp contributes g_out
    to both factors' gradients."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    (pt, pb), (pl, pr) = pads
    xp = np.zeros((n, c, h + pt + pb, wd + pl + pr))
    xp[:, :, pt:pt + h, pl:pl + wd] = x
    gxp = np.zeros_like(xp)
    gw = np.zeros_like(w)
    ho, wo = g_out.shape[2], g_out.shape[3]
    og = o // groups
    for oc in range(o):
        gch = oc // og
        for i in range(ho):
            for j in range(wo):
                gy = g_out[:, oc, i, j]  # (n,)
                for ci in range(cg):
                    for p in range(kh):
                        for q in range(kw):
                            r, s = i * stride[0] + p * dil[0], j * stride[1] + q * dil[1]
                            gw[oc, ci, p, q] += np.dot(gy, xp[:, gch * cg + ci, r, s])
                            gxp[:, gch * cg + ci, r, s] += gy * w[oc, ci, p, q]
    return gxp[:, :, pt:pt + h, pl:pl + wd], gw, g_out.sum(axis=(0, 2, 3))


def _grads(y, inputs, g):
    y.backward(_t(g))
    return [t.grad.numpy().copy() for t in inputs]


@st.composite
def conv_cases(draw):
    groups = draw(st.integers(1, 3))
    cg = draw(st.integers(1, 2))
    og = draw(st.integers(1, 2))
    kh, kw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    padding = draw(st.sampled_from(["valid", "same", "SAME", 0, 1, 2, (1, 0), (0, 2)]))
    if padding == "same" and max(stride) > 1 and draw(st.booleans()):
        stride = (1, 1)
    # any input whose padded size holds the dilated kernel (so there is an output); with int
    # padding that includes inputs smaller than the padding (columns that see only zeros)
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    if padding == "valid":
        assume(h >= dil[0] * (kh - 1) + 1 and w >= dil[1] * (kw - 1) + 1)
    elif not isinstance(padding, str):
        ph, pw = padding if isinstance(padding, tuple) else (padding, padding)
        assume(h + 2 * ph >= dil[0] * (kh - 1) + 1 and w + 2 * pw >= dil[1] * (kw - 1) + 1)
    n = draw(st.integers(1, 2))
    bias = draw(st.booleans())
    seed = draw(st.integers(0, 2 ** 16))
    return dict(n=n, c=groups * cg, o=groups * og, groups=groups, k=(kh, kw), stride=stride, dil=dil,
                padding=padding, hw=(h, w), bias=bias, seed=seed)


@settings(**SETTINGS)
@given(conv_cases())
def test_conv2d_forward_and_gradients_match_the_loops(case):
    rng = np.random.default_rng(case["seed"])
    (h, w), (kh, kw) = case["hw"], case["k"]
    x = rng.standard_normal((case["n"], case["c"], h, w))
    wt = rng.standard_normal((case["o"], case["c"] // case["groups"], kh, kw))
    b = rng.standard_normal(case["o"]) if case["bias"] else None
    pad = case["padding"].lower() if isinstance(case["padding"], str) else case["padding"]
    ph, pw = pad if isinstance(pad, tuple) else (pad, pad)
    pads = (_pads_for(ph, h, kh, case["stride"][0], case["dil"][0]),
            _pads_for(pw, w, kw, case["stride"][1], case["dil"][1]))
    want = ref_conv2d(x, wt, b, case["stride"], pads, case["dil"], case["groups"])
    g = rng.standard_normal(want.shape)
    gx, gw, gb = ref_conv2d_grads(x, wt, g, case["stride"], pads, case["dil"], case["groups"])
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        tw = _t(wt, requires_grad=True)
        tb = _t(b, requires_grad=True) if b is not None else None
        y = F.conv2d(tx, tw, tb, stride=case["stride"], padding=case["padding"], dilation=case["dil"],
                     groups=case["groups"])
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10, atol=1e-10, err_msg=backend)
        got = _grads(y, [tx, tw] + ([tb] if tb is not None else []), g)
        np.testing.assert_allclose(got[0], gx, rtol=1e-10, atol=1e-10, err_msg=f"{backend} dx")
        np.testing.assert_allclose(got[1], gw, rtol=1e-10, atol=1e-10, err_msg=f"{backend} dw")
        if tb is not None:
            np.testing.assert_allclose(got[2], gb, rtol=1e-10, atol=1e-10, err_msg=f"{backend} db")


# ---------------------------------------------------------------- pooling
def ref_pool2d(x, k, stride, pads, kind, count_include_pad=True, dil=(1, 1)):
    """Each window's max (padding -inf; taps `dil` apart) or mean (padding zeros; divisor the
    whole window, or the real elements only), and the input gradient of sum(y * g) as a second
    function."""
    n, c, h, w = x.shape
    (pt, pb), (pl, pr) = pads
    fill = -np.inf if kind == "max" else 0.0
    xp = np.full((n, c, h + pt + pb, w + pl + pr), fill)
    xp[:, :, pt:pt + h, pl:pl + w] = x
    real = np.zeros(xp.shape[2:])
    real[pt:pt + h, pl:pl + w] = 1
    span = (dil[0] * (k[0] - 1) + 1, dil[1] * (k[1] - 1) + 1)
    ho = (h + pt + pb - span[0]) // stride[0] + 1
    wo = (w + pl + pr - span[1]) // stride[1] + 1
    y = np.zeros((n, c, ho, wo))
    windows = {}
    for i in range(ho):
        for j in range(wo):
            r, s = i * stride[0], j * stride[1]
            win = xp[:, :, r:r + span[0]:dil[0], s:s + span[1]:dil[1]].reshape(n, c, -1)
            if kind == "max":
                y[:, :, i, j] = win.max(axis=2)
                windows[i, j] = (r, s, win.argmax(axis=2), None)
            else:
                div = k[0] * k[1] if count_include_pad else real[r:r + k[0], s:s + k[1]].sum()
                y[:, :, i, j] = win.sum(axis=2) / div
                windows[i, j] = (r, s, None, div)

    def grad(g):
        gxp = np.zeros(xp.shape)
        for (i, j), (r, s, arg, div) in windows.items():
            if kind == "max":
                for a in range(n):
                    for ch in range(c):
                        p, q = divmod(int(arg[a, ch]), k[1])
                        gxp[a, ch, r + p * dil[0], s + q * dil[1]] += g[a, ch, i, j]
            else:
                gxp[:, :, r:r + k[0], s:s + k[1]] += g[:, :, i, j][:, :, None, None] / div
        return gxp[:, :, pt:pt + h, pl:pl + w]
    return y, grad


@st.composite
def pool_cases(draw):
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = draw(st.sampled_from(["valid", "same", 0, 1]))
    if isinstance(padding, int) and padding > 0 and min(k) < 2:
        padding = 0  # PyTorch's rule: padding at most half the kernel
    dil = (draw(st.integers(1, 2)), draw(st.integers(1, 2)))
    h = draw(st.integers(dil[0] * (k[0] - 1) + 1, 7))
    w = draw(st.integers(dil[1] * (k[1] - 1) + 1, 7))
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w)
    return dict(k=k, stride=stride, padding=padding, dil=dil, shape=shape,
                seed=draw(st.integers(0, 2 ** 16)))


def _pool_pads(case, dil=(1, 1)):
    h, w = case["shape"][2:]
    return (_pads_for(case["padding"], h, case["k"][0], case["stride"][0], dil[0]),
            _pads_for(case["padding"], w, case["k"][1], case["stride"][1], dil[1]))


@settings(**SETTINGS)
@given(pool_cases())
def test_max_pool2d_forward_and_gradient_match_the_loops(case):
    rng = np.random.default_rng(case["seed"])
    # distinct values: the maximum of each window is unique, so the gradient is well defined
    x = rng.permutation(int(np.prod(case["shape"]))).reshape(case["shape"]).astype(np.float64)
    pads = _pool_pads(case, case["dil"])
    want, grad = ref_pool2d(x, case["k"], case["stride"], pads, "max", dil=case["dil"])
    g = rng.standard_normal(want.shape)
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        y = F.max_pool2d(tx, case["k"], case["stride"], case["padding"], dilation=case["dil"])
        np.testing.assert_array_equal(y.detach().numpy(), want, err_msg=backend)
        np.testing.assert_allclose(_grads(y, [tx], g)[0], grad(g), rtol=1e-12, atol=1e-12, err_msg=backend)


@settings(**SETTINGS)
@given(pool_cases())
def test_avg_pool2d_forward_and_gradient_match_the_loops(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal(case["shape"])
    # the default divisor: the whole window for int padding (PyTorch), the real elements for 'same' (Keras)
    include = case["padding"] != "same"
    want, grad = ref_pool2d(x, case["k"], case["stride"], _pool_pads(case), "avg", include)
    g = rng.standard_normal(want.shape)
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        y = F.avg_pool2d(tx, case["k"], case["stride"], case["padding"])
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12, atol=1e-12, err_msg=backend)
        np.testing.assert_allclose(_grads(y, [tx], g)[0], grad(g), rtol=1e-12, atol=1e-12, err_msg=backend)


# ---------------------------------------------------------------- conv1d, causal
def ref_causal_conv1d(x, w, b, stride, dil, groups):
    """y[n, o, t] = b[o] + sum_{c, k} w[o, c, k] * x[n, g*cg + c, t*stride - dil*(K-1-k)], with
    x = 0 before the start: output t sees inputs up to t*stride only."""
    n, c, length = x.shape
    o, cg, kk = w.shape
    out_len = (length + stride - 1) // stride
    og = o // groups
    y = np.zeros((n, o, out_len))
    for oc in range(o):
        g = oc // og
        for t in range(out_len):
            for ci in range(cg):
                for k in range(kk):
                    src = t * stride - dil * (kk - 1 - k)
                    if src >= 0:
                        y[:, oc, t] += w[oc, ci, k] * x[:, g * cg + ci, src]
            if b is not None:
                y[:, oc, t] += b[oc]
    return y


@settings(**SETTINGS)
# found by this test: the fast im2col wrote past its row when the left padding exceeded the
# sequence (a length-1 sequence, kernel 3, dilation 2: 4 zeros on the left)
@example(groups=1, cg=1, og=1, k=3, stride=1, dil=2, length=1, bias=True, seed=0)
@given(groups=st.integers(1, 2), cg=st.integers(1, 2), og=st.integers(1, 2), k=st.integers(1, 4),
       stride=st.integers(1, 2), dil=st.integers(1, 3), length=st.integers(1, 9), bias=st.booleans(),
       seed=st.integers(0, 2 ** 16))
def test_causal_conv1d_matches_the_loops_and_only_looks_back(groups, cg, og, k, stride, dil, length, bias, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, groups * cg, length))
    w = rng.standard_normal((groups * og, cg, k))
    b = rng.standard_normal(groups * og) if bias else None
    want = ref_causal_conv1d(x, w, b, stride, dil, groups)
    g = rng.standard_normal(want.shape)
    # the gradients from the reference: it is linear in x and in w, so the gradient's entry i is
    # <g, conv(e_i)> with e_i the i-th basis array
    gx_ref, gw_ref = np.zeros_like(x), np.zeros_like(w)
    for idx in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[idx] = 1.0
        gx_ref[idx] = np.sum(g * ref_causal_conv1d(e, w, None, stride, dil, groups))
    for idx in np.ndindex(w.shape):
        e = np.zeros_like(w)
        e[idx] = 1.0
        gw_ref[idx] = np.sum(g * ref_causal_conv1d(x, e, None, stride, dil, groups))
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        tw = _t(w, requires_grad=True)
        tb = _t(b) if b is not None else None
        y = F.conv1d(tx, tw, tb, stride=stride, padding="causal", dilation=dil, groups=groups)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-10, atol=1e-10, err_msg=backend)
        gx, gw = _grads(y, [tx, tw], g)
        np.testing.assert_allclose(gx, gx_ref, rtol=1e-10, atol=1e-10, err_msg=f"{backend} dx")
        np.testing.assert_allclose(gw, gw_ref, rtol=1e-10, atol=1e-10, err_msg=f"{backend} dw")
        # causality: changing the input at and after position s leaves outputs before s/stride alone
        if length > 1:
            s = length // 2
            x2 = x.copy()
            x2[:, :, s:] += 1.0
            y2 = F.conv1d(_t(x2), tw.detach(), tb, stride=stride, padding="causal", dilation=dil,
                          groups=groups).numpy()
            keep = [t for t in range(want.shape[2]) if t * stride < s]
            np.testing.assert_array_equal(y2[:, :, keep], y.detach().numpy()[:, :, keep])


# ---------------------------------------------------------------- conv2d_transpose, the adjoint
@settings(**SETTINGS)
@given(conv_cases())
def test_conv2d_transpose_is_the_adjoint_of_the_loops_convolution(case):
    # <conv2d_transpose(y, w), x> = <y, conv(x, w)> for the same weight, stride, padding, dilation
    # and groups, with output_padding the rows the convolution's floor dropped (so that the
    # transposed output has x's shape); and its input gradient is that convolution
    pad = case["padding"]
    if isinstance(pad, str):
        pad = 1  # conv2d_transpose takes PyTorch's int padding
    ph, pw = pad if isinstance(pad, tuple) else (pad, pad)
    (h, w), (kh, kw), (sh, sw), (dh, dw) = case["hw"], case["k"], case["stride"], case["dil"]
    assume(h + 2 * ph >= dh * (kh - 1) + 1 and w + 2 * pw >= dw * (kw - 1) + 1)
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], h, w))
    wt = rng.standard_normal((case["o"], case["c"] // case["groups"], kh, kw))
    conv = ref_conv2d(x, wt, None, case["stride"], ((ph, ph), (pw, pw)), case["dil"], case["groups"])
    ho, wo = conv.shape[2:]
    out_pad = (h - ((ho - 1) * sh - 2 * ph + dh * (kh - 1) + 1), w - ((wo - 1) * sw - 2 * pw + dw * (kw - 1) + 1))
    y = rng.standard_normal(conv.shape)
    b = rng.standard_normal(case["c"]) if case["bias"] else None
    for backend in BACKENDS:
        pydl.set_backend(backend)
        ty = _t(y, requires_grad=True)
        tb = _t(b) if b is not None else None
        out = F.conv2d_transpose(ty, _t(wt), tb, stride=case["stride"], padding=(ph, pw), output_padding=out_pad,
                                 dilation=case["dil"], groups=case["groups"])
        assert tuple(out.shape) == x.shape
        got = out.detach().numpy() - (0.0 if b is None else b.reshape(1, -1, 1, 1))
        np.testing.assert_allclose(np.sum(got * x), np.sum(y * conv), rtol=1e-10, atol=1e-10, err_msg=backend)
        # d<out, x>/dy = conv(x, w): the transposed convolution's gradient is the convolution
        out.backward(_t(x))
        np.testing.assert_allclose(ty.grad.numpy(), conv, rtol=1e-10, atol=1e-10, err_msg=backend)


# ---------------------------------------------------------------- the other CNN ops
def _adjoint(f, shape, g):
    """J^T g for a linear NumPy map f of arrays of `shape`: entry i is <g, f(e_i)>."""
    out = np.zeros(shape)
    for idx in np.ndindex(shape):
        e = np.zeros(shape)
        e[idx] = 1.0
        out[idx] = np.sum(g * f(e))
    return out


@settings(**SETTINGS)
@given(h=st.integers(1, 5), w=st.integers(1, 5), pads=st.tuples(*[st.integers(0, 4)] * 4),
       mode=st.sampled_from(["zeros", "reflect"]), seed=st.integers(0, 2 ** 16))
def test_pad2d_matches_numpy_pad_with_its_adjoint_gradient(h, w, pads, mode, seed):
    left, right, top, bottom = pads
    if mode == "reflect":  # each pad smaller than its axis (the edge pixel is not repeated)
        assume(max(left, right) < w and max(top, bottom) < h)

    def f(a):
        return np.pad(a, ((0, 0), (0, 0), (top, bottom), (left, right)),
                      mode="constant" if mode == "zeros" else "reflect")
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, 2, h, w))
    want = f(x)
    g = rng.standard_normal(want.shape)
    gx = _adjoint(f, x.shape, g)
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        y = F.pad2d(tx, (left, right, top, bottom), mode)
        np.testing.assert_array_equal(y.detach().numpy(), want, err_msg=backend)
        np.testing.assert_allclose(_grads(y, [tx], g)[0], gx, rtol=1e-12, atol=1e-12, err_msg=backend)


def ref_resize(x, out, mode, align_corners):
    """Resize (N, C, H, W) to `out` = (Ho, Wo) from the formulas: nearest copies input
    floor(i * H / Ho); bilinear reads the source coordinate (i + 0.5) * H / Ho - 0.5 (clamped at
    0), or i * (H - 1) / (Ho - 1) with align_corners, and blends its two neighbours per axis."""
    def taps(n_in, n_out):
        rows = []
        for i in range(n_out):
            if mode == "nearest":
                rows.append([(min(n_in - 1, (i * n_in) // n_out), 1.0)])
                continue
            if align_corners:
                src = i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
            else:
                src = max((i + 0.5) * n_in / n_out - 0.5, 0.0)
            i0 = min(int(np.floor(src)), n_in - 1)
            i1 = min(i0 + 1, n_in - 1)
            frac = src - i0
            rows.append([(i0, 1.0 - frac), (i1, frac)])
        m = np.zeros((n_out, n_in))
        for i, row in enumerate(rows):
            for j, wgt in row:
                m[i, j] += wgt
        return m
    mh, mw = taps(x.shape[2], out[0]), taps(x.shape[3], out[1])
    return np.einsum("ih,nchw,jw->ncij", mh, x, mw)


@settings(**SETTINGS)
@given(h=st.integers(1, 5), w=st.integers(1, 5), out=st.tuples(st.integers(1, 9), st.integers(1, 9)),
       mode=st.sampled_from(["nearest", "bilinear"]), align=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_upsample2d_to_a_size_matches_the_formulas_with_its_adjoint_gradient(h, w, out, mode, align, seed):
    align = align and mode == "bilinear"
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((1, 2, h, w))
    want = ref_resize(x, out, mode, align)
    g = rng.standard_normal(want.shape)
    gx = _adjoint(lambda a: ref_resize(a, out, mode, align), x.shape, g)
    for backend in BACKENDS:
        pydl.set_backend(backend)
        tx = _t(x, requires_grad=True)
        y = F.upsample2d(tx, size=out, mode=mode, align_corners=align)
        np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-12, atol=1e-12, err_msg=backend)
        np.testing.assert_allclose(_grads(y, [tx], g)[0], gx, rtol=1e-10, atol=1e-10, err_msg=backend)


@settings(**SETTINGS)
@given(h=st.integers(1, 4), w=st.integers(1, 4), s=st.tuples(st.integers(1, 3), st.integers(1, 3)),
       seed=st.integers(0, 2 ** 16))
def test_upsample2d_nearest_integer_scale_is_repeat(h, w, s, seed):
    x = np.random.default_rng(seed).standard_normal((2, 1, h, w))
    for backend in BACKENDS:
        pydl.set_backend(backend)
        y = F.upsample2d(_t(x), scale_factor=s).numpy()
        np.testing.assert_array_equal(y, x.repeat(s[0], axis=2).repeat(s[1], axis=3), err_msg=backend)


@settings(**SETTINGS)
@given(n=st.integers(2, 3), c=st.integers(1, 3), rest=st.lists(st.integers(1, 3), max_size=2),
       seed=st.integers(0, 2 ** 16))
def test_batch_norm_training_matches_numpy_and_updates_running_stats(n, c, rest, seed):
    rng = np.random.default_rng(seed)
    shape = (n, c) + tuple(rest)
    x = rng.standard_normal(shape)
    wgt, bias = rng.standard_normal(c), rng.standard_normal(c)
    axes = (0,) + tuple(range(2, len(shape)))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    bshape = (1, c) + (1,) * len(rest)
    want = (x - mean.reshape(bshape)) / np.sqrt(var.reshape(bshape) + 1e-5) * wgt.reshape(bshape) + bias.reshape(bshape)
    m = x.size // c
    rm0, rv0 = rng.standard_normal(c), rng.random(c) + 0.5
    for backend in BACKENDS:
        pydl.set_backend(backend)
        rm, rv = _t(rm0.copy()), _t(rv0.copy())
        y = F.batch_norm(_t(x), rm, rv, _t(wgt), _t(bias), training=True, momentum=0.1, eps=1e-5)
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-10, atol=1e-10, err_msg=backend)
        np.testing.assert_allclose(rm.numpy(), 0.9 * rm0 + 0.1 * mean, rtol=1e-12, err_msg=backend)
        np.testing.assert_allclose(rv.numpy(), 0.9 * rv0 + 0.1 * var * m / (m - 1), rtol=1e-12, err_msg=backend)
        xt = _t(x, requires_grad=True)
        res = pydl.utils.gradcheck(lambda a: F.batch_norm(a, None, None, _t(wgt), _t(bias), training=True), [xt])
        assert res, f"{backend}: {res}"


@settings(**SETTINGS)
@given(n=st.integers(1, 2), groups=st.integers(1, 3), cg=st.integers(1, 2), rest=st.lists(st.integers(1, 3),
       max_size=2), seed=st.integers(0, 2 ** 16))
def test_group_norm_and_layer_norm_match_numpy(n, groups, cg, rest, seed):
    rng = np.random.default_rng(seed)
    c = groups * cg
    shape = (n, c) + tuple(rest)
    x = rng.standard_normal(shape)
    wgt, bias = rng.standard_normal(c), rng.standard_normal(c)
    xg = x.reshape(n, groups, -1)
    xhat = ((xg - xg.mean(-1, keepdims=True)) / np.sqrt(xg.var(-1, keepdims=True) + 1e-5)).reshape(shape)
    bshape = (1, c) + (1,) * len(rest)
    want_gn = xhat * wgt.reshape(bshape) + bias.reshape(bshape)
    tail = shape[1:]
    lw, lb = rng.standard_normal(tail), rng.standard_normal(tail)
    xf = x.reshape(n, -1)
    want_ln = ((xf - xf.mean(-1, keepdims=True)) / np.sqrt(xf.var(-1, keepdims=True) + 1e-5)).reshape(shape) * lw + lb
    for backend in BACKENDS:
        pydl.set_backend(backend)
        gn = F.group_norm(_t(x), groups, _t(wgt), _t(bias), eps=1e-5).numpy()
        np.testing.assert_allclose(gn, want_gn, rtol=1e-10, atol=1e-10, err_msg=backend)
        ln = F.layer_norm(_t(x), tail, _t(lw), _t(lb), eps=1e-5).numpy()
        np.testing.assert_allclose(ln, want_ln, rtol=1e-10, atol=1e-10, err_msg=backend)
