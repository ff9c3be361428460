"""pydl.functional.upsample2d and pad2d: forward against NumPy transcriptions (both backends,
float32 and float64, every layout), gradcheck, PyTorch's index rules by hand, and bad input."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from conftest import helper_test_op, random_inputs


def np_nearest_index(out, n, scale):
    """PyTorch's nearest rule: input floor(i / scale) for a given factor, else floor(i * n / out)."""
    i = np.arange(out)
    src = np.floor(i / scale).astype(int) if scale else (i * n) // out
    return np.minimum(src, n - 1)


def np_linear_weights(out, n, scale, align_corners):
    """(out, n) matrix M with y = M @ x along one axis, PyTorch's bilinear source coordinates."""
    i = np.arange(out, dtype=np.float64)
    if align_corners:
        src = i * (n - 1) / (out - 1) if out > 1 else np.zeros(out)
    else:
        ratio = 1.0 / scale if scale else n / out
        src = np.maximum((i + 0.5) * ratio - 0.5, 0.0)
    i0 = np.minimum(np.floor(src).astype(int), n - 1)
    i1 = np.minimum(i0 + 1, n - 1)
    lam = src - i0
    m = np.zeros((out, n))
    np.add.at(m, (np.arange(out), i0), 1 - lam)
    np.add.at(m, (np.arange(out), i1), lam)
    return m


def np_upsample(x, out, scale=(0, 0), mode="nearest", align_corners=False):
    if mode == "nearest":
        return x[:, :, np_nearest_index(out[0], x.shape[2], scale[0])][:, :, :, np_nearest_index(out[1], x.shape[3],
                                                                                                 scale[1])]
    mh = np_linear_weights(out[0], x.shape[2], scale[0], align_corners)
    mw = np_linear_weights(out[1], x.shape[3], scale[1], align_corners)
    return np.einsum("ih,nchw,jw->ncij", mh, x, mw)


# (x shape, size, scale_factor, mode, align_corners, output size, scale used)
UP_CASES = [
    ((2, 3, 3, 4), None, 2, "nearest", False, (6, 8), (2, 2)),
    ((1, 2, 5, 3), (7, 4), None, "nearest", False, (7, 4), (0, 0)),
    ((1, 2, 4, 6), (2, 3), None, "nearest", False, (2, 3), (0, 0)),       # downsampling
    ((2, 2, 3, 4), None, (1.5, 2.5), "nearest", False, (4, 10), (1.5, 2.5)),
    ((2, 3, 3, 4), None, 2, "bilinear", False, (6, 8), (2, 2)),
    ((1, 2, 3, 5), (7, 4), None, "bilinear", False, (7, 4), (0, 0)),
    ((1, 2, 3, 5), (7, 4), None, "bilinear", True, (7, 4), (0, 0)),
    ((1, 2, 4, 3), None, (1.5, 3), "bilinear", True, (6, 9), (1.5, 3)),
    ((1, 1, 4, 4), None, 1.75, "bilinear", False, (7, 7), (1.75, 1.75)),
    ((1, 2, 1, 3), (1, 5), None, "bilinear", True, (1, 5), (0, 0)),        # a single row, out 1 (align_corners)
]


@pytest.mark.parametrize("xs, size, scale_factor, mode, align_corners, out, scale", UP_CASES)
def test_upsample2d_matches_numpy_with_gradients(xs, size, scale_factor, mode, align_corners, out, scale, backend):
    helper_test_op([xs], lambda x: np_upsample(x, out, scale, mode, align_corners),
                   lambda x: F.upsample2d(x, size=size, scale_factor=scale_factor, mode=mode,
                                          align_corners=align_corners))


def test_nearest_uses_the_given_factor_not_the_size_ratio():
    # PyTorch: width 10 with scale_factor 1.25 gives 12 columns; the last reads floor(11 / 1.25) = 8,
    # while size=12 reads floor(11 * 10 / 12) = 9.
    x = pydl.tensor(np.arange(10.0).reshape(1, 1, 1, 10))
    by_factor = F.upsample2d(x, scale_factor=(1, 1.25)).numpy()[0, 0, 0]
    by_size = F.upsample2d(x, size=(1, 12)).numpy()[0, 0, 0]
    np.testing.assert_array_equal(by_factor, [0, 0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 8])
    np.testing.assert_array_equal(by_size, [0, 0, 1, 2, 3, 4, 5, 5, 6, 7, 8, 9])


def test_bilinear_by_hand():
    x = pydl.tensor([[[[1.0, 2.0]]]], dtype=pydl.float64)
    # align_corners=False, width 2 -> 3: sources -1/6 (clamped to 0), 1/2, 7/6 (the last pixel)
    np.testing.assert_allclose(F.upsample2d(x, size=(1, 3), mode="bilinear").numpy()[0, 0, 0], [1.0, 1.5, 2.0])
    # align_corners=True, width 2 -> 3: sources 0, 1/2, 1
    np.testing.assert_allclose(F.upsample2d(x, size=(1, 3), mode="bilinear", align_corners=True).numpy()[0, 0, 0],
                               [1.0, 1.5, 2.0])
    # x2, align_corners=False: 1, 1.25, 1.75, 2
    np.testing.assert_allclose(F.upsample2d(x, scale_factor=(1, 2), mode="bilinear").numpy()[0, 0, 0],
                               [1.0, 1.25, 1.75, 2.0])


def test_random_shapes_backends_agree():
    rng = np.random.default_rng(2)
    for _ in range(30):
        x = rng.normal(size=(int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 6)),
                             int(rng.integers(1, 6))))
        mode = ["nearest", "bilinear"][int(rng.integers(0, 2))]
        ac = mode == "bilinear" and bool(rng.integers(0, 2))
        size = (int(rng.integers(1, 12)), int(rng.integers(1, 12)))
        g = rng.normal(size=x.shape[:2] + size)
        res = {}
        for backend in ("reference", "fast"):
            pydl.set_backend(backend)
            xt = pydl.tensor(x, dtype=pydl.float64, requires_grad=True)
            y = F.upsample2d(xt, size=size, mode=mode, align_corners=ac)
            (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
            res[backend] = (y.detach().numpy(), xt.grad.numpy())
        np.testing.assert_allclose(res["fast"][0], np_upsample(x, size, (0, 0), mode, ac), rtol=1e-12, atol=1e-12)
        for a, b in zip(res["reference"], res["fast"]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs, exc, words", [
    ({}, ValueError, ["upsample2d", "exactly one"]),
    ({"size": 4, "scale_factor": 2}, ValueError, ["upsample2d", "exactly one"]),
    ({"scale_factor": 0}, ValueError, ["upsample2d", "scale_factor"]),
    ({"scale_factor": 0.1}, ValueError, ["upsample2d", "empty", "(1, 2, 3, 3)"]),
    ({"size": 4, "mode": "bicubic"}, ValueError, ["upsample2d", "bicubic"]),
    ({"size": 4, "align_corners": True}, ValueError, ["upsample2d", "align_corners"]),
    ({"size": (4, 0)}, ValueError, ["upsample2d", "(4, 0)"]),
    ({"scale_factor": "2"}, TypeError, ["upsample2d", "scale_factor"]),
])
def test_upsample2d_bad_input(kwargs, exc, words):
    with pytest.raises(exc) as info:
        F.upsample2d(pydl.zeros((1, 2, 3, 3)), **kwargs)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_upsample2d_wrong_rank():
    with pytest.raises(ValueError, match=r"upsample2d.*4-D.*\(2, 3, 3\)"):
        F.upsample2d(pydl.zeros((2, 3, 3)), scale_factor=2)


# ---------------------------------------------------------------- pad2d
PAD_CASES = [
    ((2, 3, 4, 5), 1, "zeros"),
    ((1, 2, 3, 4), (2, 0, 1, 3), "zeros"),
    ((2, 2, 4, 5), (1, 2, 3, 0), "reflect"),
    ((1, 3, 3, 3), 2, "reflect"),
    ((1, 1, 2, 6), (5, 4, 1, 1), "reflect"),
]


@pytest.mark.parametrize("xs, padding, mode", PAD_CASES)
def test_pad2d_matches_numpy_with_gradients(xs, padding, mode, backend):
    l, r, t, b = (padding,) * 4 if isinstance(padding, int) else padding
    np_mode = "constant" if mode == "zeros" else "reflect"  # NumPy's reflect: the edge not repeated, as PyTorch's
    helper_test_op([xs], lambda x: np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), mode=np_mode),
                   lambda x: F.pad2d(x, padding, mode))


def test_pad2d_reflect_by_hand():
    x = pydl.tensor([[[[1.0, 2.0, 3.0]]]])
    np.testing.assert_array_equal(F.pad2d(x, (2, 1, 0, 0), "reflect").numpy()[0, 0, 0], [3, 2, 1, 2, 3, 2])
    np.testing.assert_array_equal(F.pad2d(x, (2, 1, 0, 0)).numpy()[0, 0, 0], [0, 0, 1, 2, 3, 0])


def test_pad2d_reflect_gradient_counts_the_mirrors():
    # reflect by 2 on the left of [a, b, c]: [c, b, a, b, c]; a ones gradient gives a:1, b:2, c:2
    x = pydl.tensor([[[[1.0, 2.0, 3.0]]]], requires_grad=True)
    F.pad2d(x, (2, 0, 0, 0), "reflect").sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0, 0], [1, 2, 2])


@pytest.mark.parametrize("padding, mode, exc, words", [
    ((1, 1, 3, 0), "reflect", ValueError, ["pad2d", "reflect", "height 3", "(1, 1, 3, 0)"]),
    ((-1, 0, 0, 0), "zeros", ValueError, ["pad2d", "non-negative", "(-1, 0, 0, 0)"]),
    ((1, 1), "zeros", TypeError, ["pad2d", "(left, right, top, bottom)"]),
    (1, "replicate", ValueError, ["pad2d", "replicate"]),
])
def test_pad2d_bad_input(padding, mode, exc, words):
    with pytest.raises(exc) as info:
        F.pad2d(pydl.zeros((1, 2, 3, 4)), padding, mode)
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# ---------------------------------------------------------------- hypothesis: random shapes and layouts
from hypothesis import given, strategies as st  # noqa: E402
from conftest import LAYOUTS, make_tensor  # noqa: E402


@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
       pads=st.tuples(*[st.integers(0, 5)] * 4), reflect=st.booleans(), layout=st.sampled_from(LAYOUTS),
       fast=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_pad2d_hypothesis(n, c, h, w, pads, reflect, layout, fast, seed):
    l, r, t, b = pads
    if reflect:  # each reflect pad must be smaller than its axis
        l, r, t, b = l % w, r % w, t % h, b % h
    x = np.random.default_rng(seed).normal(size=(n, c, h, w))
    pydl.set_backend("fast" if fast else "reference")
    got = F.pad2d(make_tensor(x, layout), (l, r, t, b), "reflect" if reflect else "zeros").numpy()
    want = np.pad(x, ((0, 0), (0, 0), (t, b), (l, r)), mode="reflect" if reflect else "constant")
    np.testing.assert_array_equal(got, want)


@given(n=st.integers(1, 2), c=st.integers(1, 3), h=st.integers(1, 6), w=st.integers(1, 6),
       out=st.tuples(st.integers(1, 13), st.integers(1, 13)), bilinear=st.booleans(), ac=st.booleans(),
       layout=st.sampled_from(LAYOUTS), fast=st.booleans(), seed=st.integers(0, 2 ** 16))
def test_upsample2d_hypothesis(n, c, h, w, out, bilinear, ac, layout, fast, seed):
    mode = "bilinear" if bilinear else "nearest"
    ac = ac and bilinear
    x = np.random.default_rng(seed).normal(size=(n, c, h, w))
    pydl.set_backend("fast" if fast else "reference")
    got = F.upsample2d(make_tensor(x, layout), size=out, mode=mode, align_corners=ac).numpy()
    np.testing.assert_allclose(got, np_upsample(x, out, (0, 0), mode, ac), rtol=1e-12, atol=1e-12)
