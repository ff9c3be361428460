"""pydl.functional.conv2d: forward against a NumPy transcription (both backends, float32 and
float64, every layout), gradcheck of x, weight and bias, 'same'/'valid' padding, the slides'
6x6 example, and the errors for bad input."""
import numpy as np
import pytest

import pydl
from pydl import functional as F
from conftest import helper_test_op, random_inputs


def np_conv2d(x, w, b=None, stride=(1, 1), pads=(0, 0, 0, 0), dilation=(1, 1), groups=1):
    """The convolution written out in NumPy: zero-pad (top, bottom, left, right), cut the strided,
    dilated windows, and contract each group's channels and kernel positions with einsum."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    sh, sw = stride
    dh, dw = dilation
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[1]), (pads[2], pads[3])))
    ho = (xp.shape[2] - dh * (kh - 1) - 1) // sh + 1
    wo = (xp.shape[3] - dw * (kw - 1) - 1) // sw + 1
    # windows[n, c, p, q, i, j] = xp[n, c, i*sh + p*dh, j*sw + q*dw]
    windows = np.empty((n, c, kh, kw, ho, wo))
    for p in range(kh):
        for q in range(kw):
            windows[:, :, p, q] = xp[:, :, p * dh: p * dh + sh * (ho - 1) + 1: sh,
                                     q * dw: q * dw + sw * (wo - 1) + 1: sw]
    windows = windows.reshape(n, groups, cg, kh, kw, ho, wo)
    wg = w.reshape(groups, o // groups, cg, kh, kw)
    y = np.einsum("ngcpqij,gocpq->ngoij", windows, wg).reshape(n, o, ho, wo)
    return y if b is None else y + b.reshape(1, o, 1, 1)


# (x shape, weight shape, bias, stride, padding as given to conv2d, explicit pads, dilation, groups)
CASES = [
    ((2, 3, 6, 6), (4, 3, 3, 3), True, 1, 0, (0, 0, 0, 0), 1, 1),
    ((1, 2, 7, 5), (3, 2, 3, 2), False, 2, 1, (1, 1, 1, 1), 1, 1),
    ((2, 4, 6, 7), (6, 2, 3, 3), True, (1, 2), (2, 0), (2, 2, 0, 0), 1, 2),
    ((1, 3, 9, 8), (3, 1, 2, 3), True, (2, 1), (1, 2), (1, 1, 2, 2), (2, 1), 3),  # depthwise
    ((2, 2, 5, 5), (4, 2, 1, 1), True, 1, 0, (0, 0, 0, 0), 1, 1),                 # 1x1
    ((1, 4, 8, 8), (2, 4, 3, 3), False, 3, 2, (2, 2, 2, 2), 2, 1),
    ((3, 2, 4, 6), (2, 1, 4, 2), True, (1, 3), "valid", (0, 0, 0, 0), (1, 2), 2),
    # the fast kernel's direct stride-1 loops (1 to 4 output channels): 'same' 5x5 into one
    # channel (the DCGAN generator's last layer), and a dilated kernel with more padding than it spans
    ((2, 3, 7, 9), (1, 3, 5, 5), True, 1, "same", (2, 2, 2, 2), 1, 1),
    ((1, 2, 8, 7), (3, 2, 3, 2), False, 1, (2, 3), (2, 2, 3, 3), (2, 1), 1),
    # its gather kernels (16 or more channels): stride 2 (the input gradient by stride phases),
    # and stride 1 with dilation and channel counts that leave a ragged vector block
    ((2, 16, 6, 5), (16, 16, 3, 3), True, 2, 1, (1, 1, 1, 1), 1, 1),
    ((1, 17, 7, 6), (18, 17, 2, 3), False, 1, (1, 2), (1, 1, 2, 2), (2, 1), 1),
]


@pytest.mark.parametrize("xs, ws, bias, stride, padding, pads, dilation, groups", CASES)
def test_conv2d_matches_numpy_with_gradients(xs, ws, bias, stride, padding, pads, dilation, groups, backend):
    shapes = [xs, ws] + ([(ws[0],)] if bias else [])
    pair = lambda v: (v, v) if isinstance(v, int) else v  # noqa: E731

    def np_fn(x, w, b=None):
        return np_conv2d(x, w, b, pair(stride), pads, pair(dilation), groups)

    def pydl_fn(x, w, b=None):
        return F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation, groups=groups)

    helper_test_op(shapes, np_fn, pydl_fn)


def test_conv2d_random_shapes_match_numpy(backend):
    rng = np.random.default_rng(7)
    for _ in range(40):
        groups = int(rng.integers(1, 4))
        c, o = groups * int(rng.integers(1, 3)), groups * int(rng.integers(1, 3))
        kh, kw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        sh, sw, dh, dw = (int(v) for v in rng.integers(1, 3, size=4))
        ph, pw = int(rng.integers(0, 3)), int(rng.integers(0, 3))
        h = max(1, dh * (kh - 1) + 1 - 2 * ph) + int(rng.integers(0, 6))
        wd = max(1, dw * (kw - 1) + 1 - 2 * pw) + int(rng.integers(0, 6))
        x, w, b = random_inputs([(int(rng.integers(1, 3)), c, h, wd), (o, c // groups, kh, kw), (o,)],
                                seed=int(rng.integers(1 << 30)))
        want = np_conv2d(x, w, b, (sh, sw), (ph, ph, pw, pw), (dh, dw), groups)
        for dtype, tol in ((pydl.float64, 1e-12), (pydl.float32, 1e-5)):
            got = F.conv2d(pydl.tensor(x, dtype=dtype), pydl.tensor(w, dtype=dtype), pydl.tensor(b, dtype=dtype),
                           stride=(sh, sw), padding=(ph, pw), dilation=(dh, dw), groups=groups).numpy()
            np.testing.assert_allclose(got, want, rtol=tol * 10, atol=tol * 10)


def test_backends_agree_on_gradients():
    x, w, b, g = random_inputs([(2, 4, 9, 8), (6, 2, 3, 3), (6,), (2, 6, 5, 2)], seed=3)
    grads = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        ts = [pydl.tensor(v, dtype=pydl.float64, requires_grad=True) for v in (x, w, b)]
        y = F.conv2d(*ts, stride=2, padding=(1, 0), dilation=(1, 2), groups=2)
        (y * pydl.tensor(g, dtype=pydl.float64)).sum().backward()
        grads[backend] = [t.grad.numpy() for t in ts]
    for r, f in zip(grads["reference"], grads["fast"]):
        np.testing.assert_allclose(f, r, rtol=1e-12, atol=1e-12)
    # db = sum of g over N, H, W: by hand
    np.testing.assert_allclose(grads["fast"][2], g.sum(axis=(0, 2, 3)), rtol=1e-12)


def test_backward_accumulates(backend):
    x = pydl.tensor(np.ones((1, 1, 4, 4)), dtype=pydl.float64, requires_grad=True)
    w = pydl.tensor(np.ones((1, 1, 3, 3)), dtype=pydl.float64, requires_grad=True)
    F.conv2d(x, w).sum().backward()
    first = w.grad.numpy().copy()
    F.conv2d(x, w).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), 2 * first)
    np.testing.assert_allclose(first, np.full((1, 1, 3, 3), 4.0))  # each weight sees 2x2 = 4 ones


# ---------------------------------------------------------------- 'same' and 'valid'
@pytest.mark.parametrize("h, k, s, d, pads", [
    (6, 3, 2, 1, (0, 1)),   # out 3: total 1, extra row at the bottom (Keras / TF)
    (7, 3, 2, 1, (1, 1)),   # out 4: total 2
    (5, 4, 1, 1, (1, 2)),   # even kernel, stride 1: total 3 -> 1 top, 2 bottom (PyTorch's 'same' too)
    (5, 3, 1, 2, (2, 2)),   # dilated: effective kernel 5
    (8, 1, 3, 1, (0, 0)),   # out 3: no padding needed
])
def test_same_padding(h, k, s, d, pads, backend):
    x, w = random_inputs([(2, 2, h, h + 1), (3, 2, k, k)], seed=h * 10 + k)
    # the width pads, worked out the same way by hand for h + 1
    wpads = {(6, 3, 2, 1): (1, 1), (7, 3, 2, 1): (0, 1), (5, 4, 1, 1): (1, 2), (5, 3, 1, 2): (2, 2),
             (8, 1, 3, 1): (0, 0)}[(h, k, s, d)]
    got = F.conv2d(pydl.tensor(x, dtype=pydl.float64), pydl.tensor(w, dtype=pydl.float64),
                   stride=s, padding="same", dilation=d).numpy()
    assert got.shape[2:] == (-(-h // s), -(-(h + 1) // s))
    np.testing.assert_allclose(got, np_conv2d(x, w, None, (s, s), pads + wpads, (d, d)), rtol=1e-12, atol=1e-12)


def test_valid_padding_is_no_padding(backend):
    x, w = (pydl.tensor(v, dtype=pydl.float64) for v in random_inputs([(1, 2, 7, 6), (2, 2, 3, 2)]))
    np.testing.assert_array_equal(F.conv2d(x, w, padding="valid").numpy(), F.conv2d(x, w, padding=0).numpy())
    assert F.conv2d(x, w, padding="valid").shape == (1, 2, 5, 5)


# ---------------------------------------------------------------- the slides' 6x6 example
IMAGE = np.array([[1, 0, 0, 0, 0, 1],
                  [0, 1, 0, 0, 1, 0],
                  [0, 0, 1, 1, 0, 0],
                  [1, 0, 0, 0, 1, 0],
                  [0, 1, 0, 0, 1, 0],
                  [0, 0, 1, 0, 1, 0]], dtype=np.float64)
FILTER1 = np.array([[1, -1, -1], [-1, 1, -1], [-1, -1, 1]], dtype=np.float64)
FILTER2 = np.array([[-1, 1, -1], [-1, 1, -1], [-1, 1, -1]], dtype=np.float64)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64])
def test_slides_example(dtype, backend):
    x = pydl.tensor(IMAGE.reshape(1, 1, 6, 6), dtype=dtype)
    w = pydl.tensor(np.stack([FILTER1, FILTER2])[:, None], dtype=dtype)
    # The feature maps as the slides print them (worked by hand: the sum of the 3x3 patch times the filter).
    want1 = [[3, -1, -3, -1], [-3, 1, 0, -3], [-3, -3, 0, 1], [3, -2, -2, -1]]
    want2 = [[-1, -1, -1, -1], [-1, -1, -2, 1], [-1, -1, -2, 1], [-1, 0, -4, 3]]
    y1 = F.conv2d(x, w, stride=1).numpy()
    np.testing.assert_array_equal(y1[0, 0], want1)
    np.testing.assert_array_equal(y1[0, 1], want2)
    # stride 2: every other position of the stride-1 map
    y2 = F.conv2d(x, w, stride=2).numpy()
    np.testing.assert_array_equal(y2[0, 0], [[3, -3], [-3, 0]])
    np.testing.assert_array_equal(y2[0, 1], [[-1, -1], [-1, -2]])


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize("xs, ws, kwargs, words", [
    ((3, 6, 6), (2, 3, 3, 3), {}, ["4-D", "(3, 6, 6)"]),
    ((1, 3, 6, 6), (2, 3, 3), {}, ["4-D", "(2, 3, 3)"]),
    ((1, 3, 6, 6), (2, 1, 3, 3), {"groups": 2}, ["groups=2", "(1, 3, 6, 6)"]),
    ((1, 4, 6, 6), (3, 2, 3, 3), {"groups": 2}, ["groups=2", "(3, 2, 3, 3)"]),
    ((1, 4, 6, 6), (2, 3, 3, 3), {}, ["(2, 3, 3, 3)", "(1, 4, 6, 6)"]),
    ((1, 1, 4, 4), (1, 1, 5, 5), {}, ["larger", "(1, 1, 4, 4)", "(1, 1, 5, 5)"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"dilation": 2}, ["larger", "(1, 1, 4, 4)"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"stride": 0}, ["stride", "(1, 1, 4, 4)"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"stride": (1, -1)}, ["stride", "(1, 1, 3, 3)"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"dilation": 0}, ["dilation", "(1, 1, 4, 4)"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"padding": -1}, ["padding"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"padding": "full"}, ["padding", "full"]),
    ((1, 1, 4, 4), (1, 1, 3, 3), {"groups": 0}, ["groups"]),
])
def test_bad_input_raises_value_error(xs, ws, kwargs, words):
    x, w = pydl.zeros(xs), pydl.zeros(ws)
    with pytest.raises(ValueError, match="conv2d") as e:
        F.conv2d(x, w, **kwargs)
    for word in words:
        assert word in str(e.value), str(e.value)


def test_bad_bias_and_types():
    x, w = pydl.zeros((1, 2, 5, 5)), pydl.zeros((3, 2, 3, 3))
    with pytest.raises(ValueError, match=r"conv2d.*\(3,\)"):
        F.conv2d(x, w, pydl.zeros((2,)))
    with pytest.raises(TypeError, match="conv2d"):
        F.conv2d(x, w, stride=1.5)
    with pytest.raises(TypeError, match="conv2d"):
        F.conv2d(x, pydl.zeros((3, 2, 3, 3), dtype=pydl.float64))
    with pytest.raises(TypeError, match="conv2d"):
        F.conv2d(x, w, padding=(1, 2, 3))


@pytest.mark.parametrize("xs, ws, kwargs", [
    ((21, 6, 9, 8), (10, 3, 3, 3), {"padding": 1, "groups": 2}),      # batch-parallel im2col + GEMM
    ((19, 16, 12, 12), (32, 1, 3, 3), {"stride": 2, "groups": 16}),   # depthwise (multiplier 2)
    ((17, 8, 5, 5), (12, 8, 1, 1), {}),                              # 1x1
])
def test_fast_kernels_do_not_depend_on_the_thread_count(xs, ws, kwargs):
    # The fast conv2d runs threads over the images and sums the weight gradient in fixed batch
    # chunks: the forward and both gradients must be bit-identical for 1 and 2 threads.
    rng = np.random.default_rng(3)
    xa, wa = rng.standard_normal(xs).astype(np.float32), rng.standard_normal(ws).astype(np.float32)
    ga = rng.standard_normal(F.conv2d(pydl.tensor(xa), pydl.tensor(wa), **kwargs).shape).astype(np.float32)
    before_threads, before_backend = pydl.get_num_threads(), pydl.get_backend()
    results = []
    try:
        pydl.set_backend("fast")
        for threads in (1, 2):
            pydl.set_num_threads(threads)
            x, w = pydl.tensor(xa, requires_grad=True), pydl.tensor(wa, requires_grad=True)
            y = F.conv2d(x, w, **kwargs)
            (y * pydl.tensor(ga)).sum().backward()
            results.append((y.detach().numpy(), x.grad.numpy(), w.grad.numpy()))
    finally:
        pydl.set_num_threads(before_threads)
        pydl.set_backend(before_backend)
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
