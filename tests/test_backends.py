"""pydl.set_backend('reference') and 'fast' agree on every op: random shapes, non-contiguous
(transposed, stepped slices) and broadcast inputs, float32 and float64, forward and backward."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
import pydl.functional as F
from conftest import LAYOUTS, make_tensor, st_broadcast_shapes, st_layouts, st_shapes

# name -> (number of inputs, fn, input range): unary/binary ops with broadcasting inputs
ELEMENTWISE = {
    "add": (2, pydl.add, (-2, 2)), "sub": (2, pydl.sub, (-2, 2)), "mul": (2, pydl.mul, (-2, 2)),
    "div": (2, pydl.div, (0.5, 2)), "pow": (2, pydl.pow, (0.5, 2)), "maximum": (2, pydl.maximum, (-2, 2)),
    "minimum": (2, pydl.minimum, (-2, 2)), "lt": (2, pydl.lt, (-2, 2)), "eq": (2, pydl.eq, (-1, 1)),
    "where": (2, lambda a, b: pydl.where(a > 0, a, b), (-2, 2)),
    "neg": (1, pydl.neg, (-2, 2)), "exp": (1, pydl.exp, (-2, 2)), "log": (1, pydl.log, (0.1, 3)),
    "sqrt": (1, pydl.sqrt, (0.1, 3)), "abs": (1, pydl.abs, (-2, 2)), "square": (1, pydl.square, (-2, 2)),
    "pow_scalar": (1, lambda x: x ** 3.0, (-2, 2)), "clip": (1, lambda x: pydl.clip(x, -0.5, 0.7), (-2, 2)),
    "relu": (1, F.relu, (-2, 2)), "leaky_relu": (1, lambda x: F.leaky_relu(x, 0.1), (-2, 2)),
    "elu": (1, F.elu, (-2, 2)), "sigmoid": (1, F.sigmoid, (-4, 4)), "tanh": (1, F.tanh, (-3, 3)),
    "to": (1, lambda x: x.to(pydl.float64 if x.dtype == pydl.float32 else pydl.float32).to(x.dtype), (-2, 2)),
    "contiguous": (1, lambda x: x.contiguous() * 1.0, (-2, 2)),
}
# ops on one input of shape (3, 4, 5)
SHAPED = {
    "sum": lambda x: pydl.sum(x, axis=(0, 2)), "sum_all": pydl.sum, "mean": lambda x: pydl.mean(x, axis=1),
    "max": lambda x: pydl.max(x, axis=-1, keepdims=True), "min": lambda x: pydl.min(x, axis=(0, 1)),
    "var": lambda x: pydl.var(x, axis=0, ddof=1),
    "softmax0": lambda x: F.softmax(x, 0), "softmax1": lambda x: F.softmax(x, 1), "softmax": F.softmax,
    "log_softmax": lambda x: F.log_softmax(x, 1),
    "matmul": lambda x: x @ x.transpose(-1, -2), "matmul_bcast": lambda x: x @ x[0].T,
    "matmul_1d": lambda x: x @ x[0, 0], "linear": lambda x: F.linear(x, x[0].T, x[1, 1, :4]),
    "reshape": lambda x: x.reshape(5, -1) * 1.0, "permute": lambda x: x.permute(2, 0, 1) + 0.0,
    "slice": lambda x: x[::2, 1:, ::3] * 2.0, "index": lambda x: x[1, ..., None, -1] * 2.0,
    "broadcast_to": lambda x: x[:, :1].broadcast_to(3, 4, 5) * 1.0,
    "concatenate": lambda x: pydl.concatenate([x, x[:, :2]], 1), "stack": lambda x: pydl.stack([x, x], 2),
    "squeeze_unsqueeze": lambda x: x.unsqueeze(1).squeeze(1) * 1.0, "flatten": lambda x: x.flatten(1) * 1.0,
}

TOL = {pydl.float64: dict(rtol=1e-12, atol=1e-12), pydl.float32: dict(rtol=1e-5, atol=1e-5)}


def run(backend, fn, values, layouts, dtype, grad=True):
    """Forward and (float64) backward of fn under `backend`; returns numpy arrays."""
    pydl.set_backend(backend)
    ts = [make_tensor(v, lay, dtype, requires_grad=grad) for v, lay in zip(values, layouts)]
    out = fn(*ts)
    result = [out.detach().numpy().copy()]
    if grad and out.requires_grad:
        g = np.random.default_rng(9).standard_normal(out.shape)
        out.backward(pydl.tensor(g, dtype=dtype))
        result += [t.grad.numpy().copy() for t in ts]
    return result


def assert_backends_agree(fn, values, layouts, dtype, grad=True):
    ref = run("reference", fn, values, layouts, dtype, grad)
    fast = run("fast", fn, values, layouts, dtype, grad)
    assert len(ref) == len(fast)
    for r, f in zip(ref, fast):
        assert r.shape == f.shape
        np.testing.assert_allclose(f, r, **TOL[dtype])


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", ELEMENTWISE)
@given(shapes=st_broadcast_shapes(2, max_dims=4, max_side=5), layouts=st.tuples(st_layouts, st_layouts))
def test_elementwise_backends_agree(name, dtype, shapes, layouts):
    n, fn, (lo, hi) = ELEMENTWISE[name]
    rng = np.random.default_rng(len(shapes[0]) * 10 + len(shapes[1]))
    values = [rng.uniform(lo, hi, size=s) for s in shapes[:n]]
    grad = name not in ("lt", "eq")
    assert_backends_agree(fn, values, layouts[:n], dtype, grad)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("name", SHAPED)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_shaped_ops_backends_agree(name, layout, dtype):
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    assert_backends_agree(SHAPED[name], [x], [layout], dtype)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@given(shape=st_shapes(1, 4, 1, 6), layout=st_layouts, data=st.data())
def test_reductions_backends_agree_hypothesis(dtype, shape, layout, data):
    nd = len(shape)
    axes = tuple(data.draw(st.lists(st.integers(0, nd - 1), unique=True, max_size=nd))) or None
    keep = data.draw(st.booleans())
    x = np.random.default_rng(nd).standard_normal(shape)
    for fn in (lambda t: pydl.sum(t, axis=axes, keepdims=keep), lambda t: pydl.max(t, axis=axes, keepdims=keep),
               lambda t: pydl.mean(t, axis=axes, keepdims=keep)):
        assert_backends_agree(fn, [x], [layout], dtype)
    ax = data.draw(st.integers(-nd, nd - 1))
    assert_backends_agree(lambda t: F.log_softmax(t, ax), [x], [layout], dtype)
    assert_backends_agree(lambda t: F.softmax(t, ax), [x], [layout], dtype)


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@given(data=st.data())
def test_matmul_backends_agree_hypothesis(dtype, data):
    m, k, n = (data.draw(st.integers(1, 40)) for _ in range(3))
    batch = tuple(data.draw(st.lists(st.integers(1, 3), max_size=2)))
    rng = np.random.default_rng(m + k + n)
    a, b = rng.standard_normal(batch + (m, k)), rng.standard_normal((k, n))
    layouts = (data.draw(st_layouts), data.draw(st_layouts))
    ref = run("reference", pydl.matmul, [a, b], layouts, dtype)
    fast = run("fast", pydl.matmul, [a, b], layouts, dtype)
    tol = TOL[dtype] if dtype == pydl.float64 else dict(rtol=1e-4, atol=1e-4 * np.sqrt(k))
    for r, f in zip(ref, fast):
        np.testing.assert_allclose(f, r, **tol)


@pytest.mark.parametrize("shape", [(512, 300), (70000,), (3, 40000), (300, 2, 150)])
def test_large_inputs_backends_agree(shape):
    """Sizes that take the fast kernels' tiled, parallel paths (float32 sums: loose tolerance)."""
    x = np.random.default_rng(0).standard_normal(shape)
    for dtype in (pydl.float32, pydl.float64):
        tol = dict(rtol=1e-4, atol=1e-3) if dtype == pydl.float32 else dict(rtol=1e-10, atol=1e-10)
        for fn in (lambda t: t * 2.0 + t, pydl.sum, lambda t: pydl.sum(t, axis=0), lambda t: pydl.max(t, axis=-1),
                   lambda t: F.softmax(t, -1), lambda t: F.log_softmax(t, 0), pydl.exp):
            ref = run("reference", fn, [x], ["contiguous"], dtype, grad=False)[0]
            fast = run("fast", fn, [x], ["contiguous"], dtype, grad=False)[0]
            np.testing.assert_allclose(fast, ref, **tol)


@pytest.mark.parametrize("threads", [1, 2])
def test_fast_results_do_not_depend_on_threads(threads):
    x = np.random.default_rng(1).standard_normal((3, 70000)).astype(np.float32)
    pydl.set_backend("fast")
    pydl.set_num_threads(1)
    base = [pydl.sum(pydl.tensor(x)).item(), pydl.sum(pydl.tensor(x), axis=1).numpy().copy()]
    pydl.set_num_threads(threads)
    again = [pydl.sum(pydl.tensor(x)).item(), pydl.sum(pydl.tensor(x), axis=1).numpy().copy()]
    assert base[0] == again[0]
    np.testing.assert_array_equal(base[1], again[1])


def test_set_backend_roundtrip():
    pydl.set_backend("reference")
    assert pydl.get_backend() == "reference"
    pydl.set_backend("fast")
    assert pydl.get_backend() == "fast"


# ---------------------------------------------------------------- the whole float32 range (issue 7)
# The fast kernels' vectorised exp / log / tanh / sigmoid / ELU / softmax against the reference's
# C library over every binade: float32 bit patterns at a stride of 4099 (about a million values,
# both signs, denormals, +-inf, NaNs), a dense sweep of [-110, 110] where exp moves from 0
# through the denormals to overflow, and the special values by hand. The SIMD path is the one
# this process picked: PYDL_SIMD=avx2|generic lowers it, and CI runs this module under each, so
# every copy (AVX-512, AVX2, generic) is held to the same bound.
#
# Tolerance, in units in the last place (ulps: the count of float32 values between the two
# results, which also measures denormals correctly): the reference is libm (within 1 ulp); the
# fast exp's polynomial is within 2e-7 relative (< 3.4 ulps); sigmoid adds one division and
# tanh one division after a cancellation-free 1 - e (|x| >= 0.25) or a series: 6 ulps for all.
# ELU's negative branch alpha (e^x - 1) cancels near 0 in both backends alike, so its error is
# absolute: 4 ulps of 1 (the size of e^x's error), not of the result. softmax sums the same
# terms in the same order (a few ulps each) and scales by 1 / s instead of dividing: 8 ulps;
# log_softmax is (x - m) - log s with s within 8 ulps, an absolute error of 8 ulps of 1.
SPECIALS = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-40, -1e-40, 1.1754944e-38, -1.1754944e-38,
            1.0, -1.0, 0.25, -0.25, 87.3, -87.3, 88.3, -88.3, 88.7, -88.7, 88.72, -88.72, 88.73, -88.73,
            100.0, -100.0, 103.0, -103.0, 103.97, -103.97, 104.0, -104.0, 3.4028235e38, -3.4028235e38]


def _float_sweep():
    bits = (np.arange(0, 2 ** 32, 4099, dtype=np.uint64)).astype(np.uint32)
    dense = np.linspace(-110, 110, 220001, dtype=np.float32)
    return np.concatenate([np.array(SPECIALS, np.float32), bits.view(np.float32), dense])


def _ordered(a):
    """float32 -> int64 in the same order as the floats (-0 and +0 adjacent), for ulp distances."""
    i = a.astype(np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, -(i & 0x7FFFFFFF), i)


def _assert_close_ulps(fast, ref, ulps, what, abs_ulps_of_one=0):
    both_nan = np.isnan(fast) & np.isnan(ref)
    assert np.array_equal(np.isnan(fast), np.isnan(ref)), f"{what}: NaN positions differ"
    f, r = fast[~both_nan], ref[~both_nan]
    inf = np.isinf(r) | np.isinf(f)
    assert np.array_equal(f[inf], r[inf]), f"{what}: infinities differ"
    f, r = f[~inf], r[~inf]
    dist = np.abs(_ordered(f) - _ordered(r))
    ok = dist <= ulps
    if abs_ulps_of_one:
        ok |= np.abs(f.astype(np.float64) - r) <= abs_ulps_of_one * 2.0 ** -23
    worst = np.argmax(np.where(ok, 0, dist)) if not ok.all() else None
    assert ok.all(), (f"{what}: {np.count_nonzero(~ok)} values beyond {ulps} ulps, e.g. fast {f[worst]!r} "
                      f"vs reference {r[worst]!r} ({dist[worst]} ulps)")


def _both(fn, x):
    out = []
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        with np.errstate(all="ignore"):
            out.append(fn(pydl.tensor(x)).numpy().copy())
    return out


SWEEP = {"exp": (pydl.exp, 4, 0), "log": (pydl.log, 4, 0), "sigmoid": (F.sigmoid, 6, 0), "tanh": (F.tanh, 6, 0),
         "elu": (F.elu, 4, 4), "elu_0.3": (lambda t: F.elu(t, 0.3), 4, 4)}


def test_sweep_runs_the_simd_path_pydl_simd_asks_for():
    import os
    order = ["generic", "avx2", "avx512"]
    path = pydl._C._build_info()["gemm_path"]
    want = os.environ.get("PYDL_SIMD")
    if want in order:
        assert order.index(path) <= order.index(want), (path, want)


@pytest.mark.parametrize("name", SWEEP)
def test_fast_matches_reference_over_the_whole_float_range(name):
    fn, ulps, abs_ulps = SWEEP[name]
    x = _float_sweep()
    ref, fast = _both(fn, x)
    _assert_close_ulps(fast, ref, ulps, f"{name} [{pydl._C._build_info()['gemm_path']}]", abs_ulps)
    # the tail of an odd-sized run (the scalar remainder after the last full vector) too
    ref, fast = _both(fn, x[: 16 * 1001 + 13])
    _assert_close_ulps(fast, ref, ulps, f"{name} (ragged tail)", abs_ulps)


def test_log_sigmoid_of_minus_100_is_minus_100():
    """The issue's example: the fast sigmoid clamped its input, log(sigmoid(-100)) was -88.3.
    sigma(-100) = 3.7e-44 is a float32 denormal (26 steps of 1.4e-45), so the best float32 answer
    is log(float32(e^-100)) = -99.98; one step either way moves the log by 0.04."""
    best = np.log(np.float64(np.float32(np.exp(-100.0))))
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        v = pydl.log(F.sigmoid(pydl.tensor(np.full(40, -100.0, np.float32)))).numpy()
        np.testing.assert_allclose(v, best, atol=0.05)


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_fast_matches_reference_over_wide_rows(log):
    """Rows spanning [-110, 110] and beyond, so exp(x - max) runs down through the denormals to 0."""
    rng = np.random.default_rng(3)
    dense = np.linspace(-110, 110, 220001, dtype=np.float32)
    rows = [rng.permutation(dense)[: 37 * 1000].reshape(1000, 37),
            (rng.uniform(-200, 0, (300, 64))).astype(np.float32),
            np.array([[0, -100, -103, -104, -1e30, -np.inf] + [0] * 11,
                      [np.inf, 0, 1] + [0] * 14, [np.nan, 0] + [0] * 15,
                      [3.4e38, -3.4e38] + [0] * 15], np.float32)]
    fn = (lambda t: F.log_softmax(t, -1)) if log else (lambda t: F.softmax(t, -1))
    for x in rows:
        ref, fast = _both(fn, x)
        if log:
            _assert_close_ulps(fast, ref, 8, "log_softmax", abs_ulps_of_one=8)
        else:
            _assert_close_ulps(fast, ref, 8, "softmax")


def _elu_grad(alpha):
    def fn(t):
        t.requires_grad = True
        F.elu(t, alpha).backward(pydl.ones(t.shape))
        return t.grad
    return fn


SWEEP["elu_grad"] = (_elu_grad(1.0), 4, 0)  # alpha e^x below 0 (the fast one through exp_full_vec)


# NaN through every activation and select, forward and backward, on this process's SIMD path
# (CI runs this module under each PYDL_SIMD): NaN first, at the ends of 8- and 16-lane vectors,
# in the scalar tail, and in a run long enough for the tiled parallel path. Both backends must
# put NaN exactly where the input has one (the selects: where the selected value is NaN), and
# give the same values elsewhere.
NAN_OPS = {
    "relu": F.relu, "leaky_relu": lambda t: F.leaky_relu(t, 0.2), "elu": F.elu, "sigmoid": F.sigmoid,
    "tanh": F.tanh, "abs": pydl.abs, "clip": lambda t: pydl.clip(t, -0.5, 0.5),
    "maximum": lambda t: pydl.maximum(t, pydl.zeros(t.shape, dtype=t.dtype)),
    "minimum": lambda t: pydl.minimum(pydl.zeros(t.shape, dtype=t.dtype), t),
    "maximum_bcast": lambda t: pydl.maximum(t, pydl.tensor(0.0, dtype=t.dtype)),
    "where": lambda t: pydl.where(pydl.ones(t.shape, dtype=t.dtype), t, pydl.zeros(t.shape, dtype=t.dtype)),
    "exp": pydl.exp, "square": pydl.square,
}


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
@pytest.mark.parametrize("n", [37, 70001])
@pytest.mark.parametrize("name", NAN_OPS)
def test_nan_propagates_on_both_backends(name, n, dtype):
    x = np.random.default_rng(n).uniform(-2, 2, n)
    at = [0, 7, 8, 15, 16, 31, 32, 36] if n == 37 else [0, 16, 35000, 69984, 70000]
    x[at] = np.nan
    nan = np.isnan(x)
    res = {}
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        t = pydl.tensor(x, dtype=dtype, requires_grad=True)
        y = NAN_OPS[name](t)
        y.backward(pydl.ones(n, dtype=dtype))
        res[backend] = (y.detach().numpy().copy(), t.grad.numpy().copy())
        np.testing.assert_array_equal(np.isnan(res[backend][0]), nan, err_msg=f"{name} forward on {backend}")
        # where(c, t, u) is linear in t: its gradient, c, does not depend on t's value (as in PyTorch)
        grad_nan = np.zeros(n, bool) if name == "where" else nan
        np.testing.assert_array_equal(np.isnan(res[backend][1]), grad_nan, err_msg=f"{name} backward on {backend}")
    tol = TOL[dtype]
    for r, f in zip(res["reference"], res["fast"]):
        np.testing.assert_allclose(f[~nan], r[~nan], **tol)
    if name == "where":
        np.testing.assert_array_equal(res["fast"][1], np.ones(n))


@pytest.mark.parametrize("dtype", [pydl.float32, pydl.float64], ids=["f32", "f64"])
def test_nan_propagates_through_reductions_on_both_backends(dtype):
    x = np.random.default_rng(0).uniform(-2, 2, (40001, 3))
    x[[0, 16, 40000], [0, 1, 2]] = np.nan
    for backend in ("reference", "fast"):
        pydl.set_backend(backend)
        t = pydl.tensor(x, dtype=dtype)
        for fn in (pydl.max, pydl.min, pydl.sum):
            assert np.isnan(fn(t).item()), (fn, backend)
            assert np.isnan(fn(t, axis=0).numpy()).all(), (fn, backend)
            assert np.isnan(fn(t.T.contiguous(), axis=1).numpy()).all(), (fn, backend)
        rows = np.isnan(fn(t, axis=1).numpy())
        np.testing.assert_array_equal(rows, np.isnan(x).any(axis=1))
        for log in (False, True):
            y = (F.log_softmax if log else F.softmax)(t, 0).numpy()
            assert np.isnan(y).all(), backend  # each column holds a NaN
