"""matmul (2-D, batched, broadcast batch, 1-D operands, transposed views) and linear."""
import numpy as np
import pytest
from hypothesis import given, strategies as st

import pydl
from conftest import helper_test_op, make_tensor, random_inputs


@pytest.mark.parametrize("shapes", [
    ((3, 4), (4, 5)),            # 2-D
    ((1, 4), (4, 1)),
    ((2, 3, 4), (2, 4, 5)),      # batched
    ((2, 3, 4), (4, 5)),         # broadcast batch (right is 2-D)
    ((3, 4), (2, 4, 5)),         # broadcast batch (left is 2-D)
    ((2, 1, 3, 4), (3, 4, 2)),   # batch (2, 1) with (3,) -> (2, 3)
    ((4,), (4, 5)),              # 1-D on the left
    ((3, 4), (4,)),              # 1-D on the right
    ((4,), (4,)),                # dot product
    ((2, 3, 4), (4,)),
    ((4,), (2, 4, 3)),
])
def test_matmul(shapes, backend):
    helper_test_op(shapes, np.matmul, pydl.matmul)
    helper_test_op(shapes, np.matmul, lambda a, b: a @ b, forward_only=True)


def test_matmul_transposed_views(backend):
    a, b = random_inputs([(4, 3), (5, 4)])
    helper_test_op(None, lambda x, y: x.T @ y.T, lambda x, y: x.T @ y.T, values=[a, b])
    helper_test_op(None, lambda x, y: x.T @ y.T, lambda x, y: x.transpose(0, 1) @ y.transpose(), values=[a, b])
    c, d = random_inputs([(2, 4, 3), (2, 5, 4)])
    helper_test_op(None, lambda x, y: np.swapaxes(x, -1, -2) @ np.swapaxes(y, -1, -2),
                   lambda x, y: x.transpose(-1, -2) @ y.transpose(-1, -2), values=[c, d])


def test_matmul_strided_views_made_by_pydl(backend):
    x = np.random.default_rng(0).standard_normal((6, 8))
    y = np.random.default_rng(1).standard_normal((8, 10))
    tx, ty = pydl.tensor(x, dtype=pydl.float64), pydl.tensor(y, dtype=pydl.float64)
    np.testing.assert_allclose((tx[::2, 1::2] @ ty[::2, ::3]).numpy(), x[::2, 1::2] @ y[::2, ::3], rtol=1e-12)
    np.testing.assert_allclose((tx.T[1:, :] @ tx).numpy(), x.T[1:, :] @ x, rtol=1e-12)


@pytest.mark.parametrize("m,k,n", [(65, 130, 67), (1, 300, 1), (128, 64, 96), (3, 1, 5)])
def test_matmul_bigger_shapes(m, k, n, backend):
    a = np.random.default_rng(0).standard_normal((m, k))
    b = np.random.default_rng(1).standard_normal((k, n))
    got = pydl.matmul(pydl.tensor(a, dtype=pydl.float64), pydl.tensor(b, dtype=pydl.float64)).numpy()
    np.testing.assert_allclose(got, a @ b, rtol=1e-10, atol=1e-10)
    got32 = pydl.matmul(pydl.tensor(a), pydl.tensor(b)).numpy()
    np.testing.assert_allclose(got32, a @ b, rtol=1e-4, atol=1e-4 * np.sqrt(k))


def test_matmul_empty():
    assert pydl.matmul(pydl.zeros(0, 3), pydl.zeros(3, 4)).shape == (0, 4)
    out = pydl.matmul(pydl.ones(2, 0), pydl.ones(0, 3))
    np.testing.assert_array_equal(out.numpy(), np.zeros((2, 3)))


@given(data=st.data())
def test_matmul_hypothesis(data):
    m, k, n = (data.draw(st.integers(1, 6)) for _ in range(3))
    batch = data.draw(st.lists(st.integers(1, 3), max_size=2))
    b_batch = [s if data.draw(st.booleans()) else 1 for s in batch]
    if data.draw(st.booleans()):
        b_batch = b_batch[1:]
    a = np.random.default_rng(m * 7 + k).standard_normal(tuple(batch) + (m, k))
    b = np.random.default_rng(n).standard_normal(tuple(b_batch) + (k, n))
    la, lb = data.draw(st.sampled_from(["contiguous", "strided", "transposed", "permuted", "offset"])), \
        data.draw(st.sampled_from(["contiguous", "strided", "transposed", "permuted", "offset"]))
    pydl.set_backend(data.draw(st.sampled_from(["reference", "fast"])))
    got = pydl.matmul(make_tensor(a, la), make_tensor(b, lb)).numpy()
    np.testing.assert_allclose(got, a @ b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape", [(4, 3), (2, 4, 3), (3,)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear(x_shape, bias, backend):
    shapes = [x_shape, (3, 5)] + ([(5,)] if bias else [])

    def np_fn(x, w, b=None):
        y = x @ w
        return y + b if b is not None else y

    def pydl_fn(x, w, b=None):
        return pydl.functional.linear(x, w, b)

    helper_test_op(shapes, np_fn, pydl_fn)


def test_linear_with_transposed_weight(backend):
    x, w, b = random_inputs([(4, 3), (5, 3), (5,)])
    helper_test_op(None, lambda x, w, b: x @ w.T + b, lambda x, w, b: pydl.functional.linear(x, w.T, b),
                   values=[x, w, b])


def test_linear_equals_matmul_plus_bias(backend):
    x, w, b = (pydl.tensor(v, dtype=pydl.float64) for v in random_inputs([(6, 3), (3, 4), (4,)]))
    np.testing.assert_allclose(pydl.functional.linear(x, w, b).numpy(), (x @ w + b).numpy(), rtol=1e-14)


def test_linear_shape_errors():
    with pytest.raises(ValueError, match=r"linear.*\(2, 3\).*\(4, 5\)"):
        pydl.functional.linear(pydl.zeros(2, 3), pydl.zeros(4, 5))
    with pytest.raises(ValueError, match=r"linear.*bias.*\(5,\).*\(4,\)"):
        pydl.functional.linear(pydl.zeros(2, 3), pydl.zeros(3, 5), pydl.zeros(4))
    with pytest.raises(ValueError, match=r"linear.*2-D.*\(3,\)"):
        pydl.functional.linear(pydl.zeros(2, 3), pydl.zeros(3))
    with pytest.raises(TypeError, match="linear.*dtype"):
        pydl.functional.linear(pydl.zeros(2, 3), pydl.zeros(3, 5, dtype=pydl.float64))


# ---------------------------------------------------------------- allocation failure (issue 7)
# GEMM takes its packing scratch before any OpenMP region, so a failed allocation is a
# std::bad_alloc in the calling thread, which pybind11 turns into MemoryError. (Inside a region
# it would reach std::terminate and abort the interpreter.) The child process caps its address
# space just above what it already uses and runs a product whose scratch cannot fit: a few rows
# times a transposed (256, 2^20) matrix, the "direct" path that used to allocate a 16 MB scratch
# block per thread inside its region. The operands are np.zeros (calloc: address space only, no
# memory is touched), and the thread pool is started before the cap.
_MEMORY_CHILD = r"""
import os, sys
try:
    import resource
except ImportError:
    print("SKIP: no resource module"); sys.exit(0)
import numpy as np
import pydl
pydl.set_backend("fast")
pydl.set_num_threads(2)
pydl.sum(pydl.ones(1 << 20)).item()  # start the OpenMP threads before the cap
K = 1 << 20
a = pydl.from_numpy(np.zeros((4, K), np.float32))
b = pydl.from_numpy(np.zeros((256, K), np.float32))
bt = b.T
page = os.sysconf("SC_PAGE_SIZE")
used = int(open("/proc/self/statm").read().split()[0]) * page
try:
    resource.setrlimit(resource.RLIMIT_AS, (used + (6 << 20), resource.RLIM_INFINITY))
except (ValueError, OSError) as e:
    print("SKIP: RLIMIT_AS cannot be set:", e); sys.exit(0)
try:
    pydl.matmul(a, bt)
except MemoryError as e:
    print("MEMORYERROR", e)
    sys.exit(0)
print("NO ERROR")
"""


def test_gemm_scratch_allocation_failure_is_memory_error():
    import os
    import subprocess
    import sys
    if not sys.platform.startswith("linux"):
        pytest.skip("needs /proc/self/statm and RLIMIT_AS (Linux)")
    if "asan" in os.environ.get("LD_PRELOAD", "") or "address" in os.environ.get("PYDL_SANITIZE", ""):
        pytest.skip("AddressSanitizer reserves terabytes of address space: RLIMIT_AS cannot be capped")
    env = dict(os.environ, OMP_NUM_THREADS="2")
    proc = subprocess.run([sys.executable, "-c", _MEMORY_CHILD], env=env, capture_output=True, text=True,
                          timeout=120, cwd=os.path.dirname(os.path.abspath(__file__)))
    if proc.stdout.startswith("SKIP"):
        pytest.skip(proc.stdout.strip())
    assert proc.returncode == 0, f"child died (rc {proc.returncode}): {proc.stderr[-2000:]}"
    assert "MEMORYERROR" in proc.stdout, proc.stdout + proc.stderr
