"""Shared test machinery for pydl's core.

* The report header names the pydl under test and its compiled core (from the repository root
  that is this checkout's Python code with an install's core; see pydl/_source_tree.py).
* ``restore_settings`` (autouse): every test leaves the backend, the thread count and grad
  mode as it found them.
* Layouts: the same values stored contiguously, strided (every other element), transposed,
  permuted (minitorch-style), or with an offset; ``as_layout`` builds the NumPy view and
  ``pydl.from_numpy`` shares it, so the pydl tensor has the same non-contiguous strides.
* Hypothesis strategies: shapes, mutually broadcastable shapes, layouts, arrays in a layout.
* ``helper_test_op(shapes, numpy_fn, pydl_fn)``: forward against NumPy (float32 and float64,
  every layout) and backward through ``pydl.utils.gradcheck`` (float64), as tinygrad's
  ``helper_test_op`` does.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.extra import numpy as hnp

import pydl
from pydl.utils import gradcheck

settings.register_profile(
    "pydl", max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow],
    derandomize=True)
settings.load_profile("pydl")

BACKENDS = ("reference", "fast")
LAYOUTS = ("contiguous", "strided", "transposed", "permuted", "offset")
DTYPES = {pydl.float32: np.float32, pydl.float64: np.float64}


def pytest_report_header(config):
    """Which pydl is under test: run from the repository root, the checkout's Python code with
    the compiled core of the install it borrows (pydl/_source_tree.py)."""
    from pydl import _source_tree
    line = f"pydl {pydl.__version__}: {pydl.__file__}, compiled core {pydl._C.__file__}"
    if _source_tree.borrowed_from:
        line += " (borrowed from the install by the source tree)"
    simd = pydl._C._build_info()["gemm_path"]
    return [line, f"simd path: {simd}, backend: {pydl.get_backend()}, threads: {pydl.get_num_threads()}"]


@pytest.fixture(autouse=True)
def restore_settings():
    backend, threads, grad = pydl.get_backend(), pydl.get_num_threads(), pydl.is_grad_enabled()
    yield
    pydl.set_backend(backend)
    pydl.set_num_threads(threads)
    pydl.set_grad_enabled(grad)


@pytest.fixture(params=BACKENDS)
def backend(request):
    """Run the test body once per backend."""
    pydl.set_backend(request.param)
    return request.param


# ---------------------------------------------------------------- layouts
def as_layout(a, layout, perm=None):
    """A NumPy array with `a`'s values (and dtype) but the memory layout named by `layout`."""
    a = np.asarray(a)
    if layout == "contiguous" or a.ndim == 0:
        return np.array(a, order="C")  # (np.ascontiguousarray would make a 0-d array 1-d)
    if layout == "strided":  # every other element of a buffer twice as large in each axis
        big = np.zeros(tuple(2 * s for s in a.shape), dtype=a.dtype)
        view = big[tuple(slice(None, None, 2) for _ in a.shape)]
        view[...] = a
        return view
    if layout == "transposed":  # stored with the axes reversed (Fortran order)
        return np.asfortranarray(a)
    if layout == "permuted":  # stored in the axis order `perm`, viewed back
        perm = list(perm) if perm is not None else list(range(1, a.ndim)) + [0]  # a cyclic shift
        inv = np.argsort(perm)
        return np.ascontiguousarray(a.transpose(perm)).transpose(inv)
    if layout == "offset":  # starts one element into its buffer, last axis strided by 3
        big = np.zeros(a.shape[:-1] + (3 * a.shape[-1] + 1,), dtype=a.dtype)
        view = big[..., 1::3]
        view[...] = a
        return view
    raise ValueError(layout)


def make_tensor(a, layout="contiguous", dtype=pydl.float64, requires_grad=False, perm=None):
    """A pydl tensor holding `a`'s values in `layout`, sharing a NumPy buffer."""
    arr = as_layout(np.asarray(a, dtype=DTYPES[dtype]), layout, perm)
    t = pydl.from_numpy(arr)
    if requires_grad:
        t.requires_grad = True
    return t


def is_noncontiguous(arr):
    return arr.ndim > 0 and arr.size > 1 and not arr.flags["C_CONTIGUOUS"]


# ---------------------------------------------------------------- strategies
def st_shapes(min_dims=1, max_dims=4, min_side=1, max_side=4):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def st_broadcast_shapes(num_shapes=2, min_dims=0, max_dims=4, max_side=4):
    """Tuples of shapes that broadcast together (some with size-1 and missing axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda bs: bs.input_shapes)


st_layouts = st.sampled_from(LAYOUTS)


@st.composite
def st_arrays(draw, shape, low=-3.0, high=3.0, dtype=np.float64):
    """(values, view): float values and a NumPy view of them in a random layout; for
    'permuted' a random axis order is drawn."""
    values = draw(hnp.arrays(dtype, shape, elements=st.floats(low, high, allow_nan=False, width=64)))
    layout = draw(st_layouts)
    perm = draw(st.permutations(range(len(shape)))) if len(shape) else None
    return values, as_layout(values, layout, perm)


# ---------------------------------------------------------------- the op helper
def random_inputs(shapes, low=-2.0, high=2.0, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s) for s in shapes]


def check_forward(np_fn, pydl_fn, values, layouts=LAYOUTS, atol=1e-10, rtol=1e-7, atol32=1e-5, rtol32=1e-4):
    """pydl_fn on tensors built from `values` (every layout, float32 and float64) against np_fn
    on the float64 values."""
    expected = np.asarray(np_fn(*values), dtype=np.float64)
    for dtype, (at, rt) in ((pydl.float64, (atol, rtol)), (pydl.float32, (atol32, rtol32))):
        for layout in layouts:
            ts = [make_tensor(v, layout, dtype) for v in values]
            out = pydl_fn(*ts)
            assert isinstance(out, pydl.Tensor), f"{layout} {dtype}: got {type(out).__name__}"
            assert out.dtype == dtype, f"{layout}: dtype {out.dtype} != {dtype}"
            got = out.numpy()
            assert got.shape == expected.shape, f"{layout} {dtype}: shape {got.shape} != {expected.shape}"
            np.testing.assert_allclose(got, expected, atol=at, rtol=rt, err_msg=f"layout={layout} dtype={dtype}")
    return expected


def check_backward(pydl_fn, values, layouts=("contiguous", "strided", "permuted"), grad_inputs=None,
                   eps=1e-6, atol=1e-5, rtol=1e-3):
    """gradcheck (float64) of pydl_fn with respect to the inputs in `grad_inputs` (all by default)."""
    grad_inputs = range(len(values)) if grad_inputs is None else grad_inputs
    for layout in layouts:
        ts = [make_tensor(v, layout, pydl.float64, requires_grad=i in grad_inputs) for i, v in enumerate(values)]
        res = gradcheck(pydl_fn, ts, eps=eps, atol=atol, rtol=rtol)
        assert res.passed, f"layout={layout}: {res!r}"


def helper_test_op(shapes, numpy_fn, pydl_fn, low=-2.0, high=2.0, values=None, forward_only=False,
                   grad_inputs=None, layouts=LAYOUTS, atol=1e-10, rtol=1e-7, atol32=1e-5, rtol32=1e-4,
                   grad_atol=1e-5, grad_rtol=1e-3, seed=0):
    """Forward vs NumPy in every layout and both dtypes, then gradcheck in float64.

    shapes:   one shape per input (ignored when `values` is given).
    low/high: the range the random inputs are drawn from (keep log/sqrt/div inputs positive).
    """
    values = [np.asarray(v, dtype=np.float64) for v in values] if values is not None else \
        random_inputs(shapes, low, high, seed)
    check_forward(numpy_fn, pydl_fn, values, layouts, atol, rtol, atol32, rtol32)
    if not forward_only:
        check_backward(pydl_fn, values, grad_inputs=grad_inputs, atol=grad_atol, rtol=grad_rtol)


def away_from(values, points, margin=0.05):
    """Move values that sit within `margin` of any of `points` (kinks: 0 for relu/abs, the
    clip bounds) by 2*margin, so central differences never straddle a kink."""
    out = []
    for v in values:
        v = np.array(v, dtype=np.float64)
        for p in points:
            near = np.abs(v - p) < margin
            v[near] = p + np.where(v[near] >= p, 2 * margin, -2 * margin)
        out.append(v)
    return out
