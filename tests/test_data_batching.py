"""pydl.data.batching: the BatchIterator and its kernels, Cython and NumPy side by side.

Each behaviour is tested on both backends; the Cython cases skip (saying so) when
``pydl.data._batching`` is not built. The two backends must agree bit for bit.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydl.data import batching
from pydl.data.batching import HAVE_CYTHON, BatchIterator, NumpyKernels, get_kernels

NOT_BUILT = "pydl.data._batching (the Cython kernels) is not built; only the NumPy fallback was tested"
BACKENDS = [
    pytest.param("numpy"),
    pytest.param("cython", marks=pytest.mark.skipif(not HAVE_CYTHON, reason=NOT_BUILT)),
]
needs_cython = pytest.mark.skipif(not HAVE_CYTHON, reason=NOT_BUILT)


def epoch_rows(it):
    """The row numbers of one epoch, in order, from x built by ``ids(n)``."""
    return np.concatenate([xb[:, 0].astype(np.int64) // 3 for xb, *_ in it])


def ids(n):
    return np.arange(n * 3, dtype=np.float32).reshape(n, 3)


def all_batches(it):
    """One epoch, each batch copied (the iterator reuses its buffers)."""
    return [tuple(None if a is None else a.copy() for a in batch) for batch in it]


# -- epochs and shuffling ----------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_every_row_once_per_epoch(backend):
    it = BatchIterator(ids(103), batch_size=10, seed=0, backend=backend)
    for _ in range(3):
        rows = epoch_rows(it)
        assert sorted(rows.tolist()) == list(range(103))
    assert it.epoch == 3


@pytest.mark.parametrize("backend", BACKENDS)
def test_same_seed_same_order_new_epoch_new_order(backend):
    a = BatchIterator(ids(50), batch_size=8, seed=42, backend=backend)
    b = BatchIterator(ids(50), batch_size=8, seed=42, backend=backend)
    a1, a2 = epoch_rows(a), epoch_rows(a)
    b1, b2 = epoch_rows(b), epoch_rows(b)
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(a2, b2)
    assert not np.array_equal(a1, a2)
    c1 = epoch_rows(BatchIterator(ids(50), batch_size=8, seed=43, backend=backend))
    assert not np.array_equal(a1, c1)


def test_generator_seed_is_used_and_advanced():
    rng = np.random.default_rng(7)
    expected = np.random.default_rng(7).permutation(20)
    it = BatchIterator(ids(20), batch_size=6, seed=rng, backend="numpy")
    np.testing.assert_array_equal(epoch_rows(it), expected)
    assert not np.array_equal(np.random.default_rng(7).permutation(20), rng.permutation(20))


@pytest.mark.parametrize("backend", BACKENDS)
def test_no_shuffle_keeps_order(backend):
    it = BatchIterator(ids(25), batch_size=7, shuffle=False, backend=backend)
    np.testing.assert_array_equal(epoch_rows(it), np.arange(25))
    np.testing.assert_array_equal(epoch_rows(it), np.arange(25))


# -- batches: sizes, buffers, shapes -----------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_partial_last_batch_is_a_view_of_the_first_rows(backend):
    it = BatchIterator(ids(10), np.arange(10), batch_size=4, shuffle=False, backend=backend)
    assert len(it) == 3
    batches = list(it)  # views, not copies
    assert [len(xb) for xb, _ in batches] == [4, 4, 2]
    first, last = batches[0][0], batches[-1][0]
    assert first.__array_interface__["data"][0] == last.__array_interface__["data"][0]
    # the buffer was overwritten: the first batch's view now shows the last batch's rows
    np.testing.assert_array_equal(first[:2], ids(10)[8:10])
    np.testing.assert_array_equal(batches[-1][1], [8, 9])
    assert first.flags.c_contiguous and last.flags.c_contiguous


@pytest.mark.parametrize("backend", BACKENDS)
def test_trailing_shape_is_kept_and_y_none(backend):
    x = np.random.default_rng(0).random((9, 1, 4, 5), dtype=np.float32)
    it = BatchIterator(x, batch_size=4, shuffle=False, backend=backend)
    batches = all_batches(it)
    assert [b[0].shape for b in batches] == [(4, 1, 4, 5), (4, 1, 4, 5), (1, 1, 4, 5)]
    assert all(b[1] is None for b in batches)
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_batch_larger_than_data(backend):
    it = BatchIterator(ids(5), batch_size=64, seed=1, backend=backend)
    (batch,) = list(it)
    assert len(it) == 1 and batch[0].shape == (5, 3)


@pytest.mark.parametrize("backend", BACKENDS)
def test_float64_and_non_contiguous_x(backend):
    base = np.random.default_rng(1).random((30, 8))
    x = base[:, ::2]  # float64, not contiguous
    (xb, _), = list(BatchIterator(x, batch_size=30, shuffle=False, backend=backend))
    assert xb.dtype == np.float64
    np.testing.assert_array_equal(xb, x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_other_dtypes_become_float32(backend):
    x = np.arange(12, dtype=np.int16).reshape(4, 3)
    (xb, _), = list(BatchIterator(x, batch_size=4, shuffle=False, backend=backend))
    assert xb.dtype == np.float32
    np.testing.assert_array_equal(xb, x.astype(np.float32))


# -- conversions: uint8 scaling, one-hot, targets, sample weights ------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_uint8_scaling_equals_divide_by_255(backend):
    x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    (xb, _), = list(BatchIterator(x, batch_size=16, shuffle=False, scale=1 / 255, backend=backend))
    assert xb.dtype == np.float32
    np.testing.assert_array_equal(xb, x.astype(np.float32) / 255)  # bit for bit
    (raw, _), = list(BatchIterator(x, batch_size=16, shuffle=False, backend=backend))
    np.testing.assert_array_equal(raw, x.astype(np.float32))  # no scale: 0..255


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_hot_labels(backend):
    rng = np.random.default_rng(3)
    x = np.arange(37, dtype=np.uint8).reshape(37, 1)  # uint8 pixel = row number
    y = rng.integers(0, 5, 37).astype(np.uint8)
    it = BatchIterator(x, y.reshape(-1, 1), batch_size=8, seed=5, num_classes=6, backend=backend)
    seen = []
    for xb, yb in it:
        rows = xb[:, 0].astype(np.int64)
        assert yb.shape == (len(xb), 6) and yb.dtype == np.float32
        np.testing.assert_array_equal(yb, np.eye(6, dtype=np.float32)[y[rows]])
        seen += rows.tolist()
    assert sorted(seen) == list(range(37))


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_hot_is_float64_for_float64_x(backend):
    (_, yb), = list(BatchIterator(np.zeros((3, 2)), [0, 2, 1], batch_size=3, shuffle=False,
                                  num_classes=3, backend=backend))
    assert yb.dtype == np.float64
    np.testing.assert_array_equal(yb, np.eye(3)[[0, 2, 1]])


@pytest.mark.parametrize("backend", BACKENDS)
def test_integer_labels_batch_as_int64_and_float_targets_keep_dtype(backend):
    x = ids(11)
    labels = np.arange(11, dtype=np.uint8) % 3
    targets = np.random.default_rng(0).random((11, 2))
    for y, dtype in ((labels, np.int64), (targets, np.float64), (targets.astype(np.float32), np.float32)):
        it = BatchIterator(x, y, batch_size=4, seed=9, backend=backend)
        for xb, yb in it:
            rows = xb[:, 0].astype(np.int64) // 3
            assert yb.dtype == dtype
            np.testing.assert_array_equal(yb, y[rows])


@pytest.mark.parametrize("backend", BACKENDS)
def test_sample_weights_follow_their_rows(backend):
    x = ids(23)
    y = np.arange(23) % 2
    w = np.linspace(0.5, 2.0, 23)
    it = BatchIterator(x, y, batch_size=5, seed=2, sample_weight=w, num_classes=2, backend=backend)
    total = 0
    for xb, yb, wb in it:
        rows = xb[:, 0].astype(np.int64) // 3
        assert wb.dtype == np.float32 and wb.shape == (len(xb),)
        np.testing.assert_array_equal(wb, w[rows].astype(np.float32))
        np.testing.assert_array_equal(yb.argmax(axis=1), y[rows])
        total += len(wb)
    assert total == 23


# -- the two backends agree --------------------------------------------------------------

@needs_cython
@pytest.mark.parametrize("case", ["uint8_onehot_weights", "float64_targets", "int_labels", "big_parallel"])
def test_cython_equals_numpy_fallback(case):
    rng = np.random.default_rng(11)
    if case == "uint8_onehot_weights":
        args = dict(x=rng.integers(0, 256, (301, 28, 28), dtype=np.uint8), y=rng.integers(0, 10, 301),
                    sample_weight=rng.random(301), scale=1 / 255, num_classes=10, batch_size=32)
    elif case == "float64_targets":
        args = dict(x=rng.random((77, 3, 5)), y=rng.random((77, 2)), batch_size=16)
    elif case == "int_labels":
        args = dict(x=rng.random((50, 7), dtype=np.float32), y=rng.integers(0, 4, 50), batch_size=9)
    else:  # batches over 1 MB take the OpenMP (prange) path in the Cython kernels
        args = dict(x=rng.integers(0, 256, (700, 3, 32, 32), dtype=np.uint8), y=rng.integers(0, 10, 700),
                    scale=1 / 255, num_classes=10, batch_size=512)
    a = all_batches(BatchIterator(seed=3, backend="cython", **args))
    b = all_batches(BatchIterator(seed=3, backend="numpy", **args))
    assert len(a) == len(b) > 0
    for ba, bb in zip(a, b):
        for u, v in zip(ba, bb):
            assert u.dtype == v.dtype
            np.testing.assert_array_equal(u, v)


@needs_cython
@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 40), d=st.integers(0, 9), b=st.integers(0, 50), seed=st.integers(0, 2**32 - 1),
       scale=st.floats(-3, 3, allow_nan=False))
def test_kernels_agree_on_random_shapes(n, d, b, seed, scale):
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, b).astype(np.int64)
    C, N = get_kernels("cython"), NumpyKernels
    for name, dtype in (("gather_rows_f32", np.float32), ("gather_rows_f64", np.float64),
                        ("gather_rows_bytes", np.uint8)):
        src = (rng.random((n, d)) * 100).astype(dtype)
        outs = [np.full((b + 2, d), 7, dtype) for _ in range(2)]
        getattr(C, name)(src, idx, outs[0])
        getattr(N, name)(src, idx, outs[1])
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_array_equal(outs[0][:b], src[idx])
    u8 = rng.integers(0, 256, (n, d), dtype=np.uint8)
    outs = [np.zeros((b, d), np.float32) for _ in range(2)]
    C.gather_rows_u8_to_f32(u8, idx, scale, outs[0])
    N.gather_rows_u8_to_f32(u8, idx, scale, outs[1])
    np.testing.assert_array_equal(outs[0], outs[1])
    labels = rng.integers(0, max(d, 1), n).astype(np.int64)
    k = max(d, 1)
    for dtype in (np.float32, np.float64):
        outs = [np.full((b, k), 7, dtype) for _ in range(2)]
        C.one_hot_gather(labels, idx, outs[0])
        N.one_hot_gather(labels, idx, outs[1])
        np.testing.assert_array_equal(outs[0], outs[1])
        np.testing.assert_array_equal(outs[0], np.eye(k, dtype=dtype)[labels[idx]])


def test_u8_lut_matches_divide_by_255():
    np.testing.assert_array_equal(batching.u8_lut(1 / 255), np.arange(256, dtype=np.float32) / 255)


# -- bad input ---------------------------------------------------------------------------

@pytest.mark.parametrize("batch_size", [0, -3, 2.5, True, None])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match=f"batch_size must be a positive integer, got {batch_size!r}"):
        BatchIterator(ids(4), batch_size=batch_size)


@pytest.mark.parametrize("kwargs, message", [
    (dict(y=np.arange(9)), "x has 10 samples but y has 9 samples; they must match along the first axis"),
    (dict(y=np.arange(10), sample_weight=np.ones(11)), "x has 10 samples but sample_weight has 11 samples"),
    (dict(y=3), "x has 10 samples but y has a scalar"),
    (dict(sample_weight=np.ones(10)), "sample_weight needs targets y"),
    (dict(y=np.arange(10), num_classes=5), r"label 9 is out of range for num_classes=5 \(labels must be 0..4\)"),
    (dict(y=-np.arange(10), num_classes=5), "label -9 is out of range"),
    (dict(y=np.arange(10) + 0.5, num_classes=20), "must be whole numbers"),
    (dict(y=np.zeros((10, 3)), num_classes=3), r"already one-hot\?"),
    (dict(y=np.arange(10), num_classes=0), "num_classes must be a positive integer"),
    (dict(scale=1 / 255), "scale applies to uint8 x, but x is float32"),
    (dict(y=np.arange(10), sample_weight=np.full(10, np.nan)), "sample_weight must be finite"),
    (dict(backend="gpu"), "backend must be 'auto', 'cython' or 'numpy'"),
])
def test_bad_arguments_raise_clear_value_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchIterator(ids(10), batch_size=4, **kwargs)


def test_empty_or_scalar_x():
    with pytest.raises(ValueError, match="x has no samples"):
        BatchIterator(np.zeros((0, 3), np.float32))
    with pytest.raises(ValueError, match="first \\(samples\\) axis"):
        BatchIterator(np.float32(1.0))


def test_cython_backend_missing_is_an_import_error(monkeypatch):
    monkeypatch.setattr(batching, "HAVE_CYTHON", False)
    with pytest.raises(ImportError, match="backend='numpy'"):
        get_kernels("cython")
    assert get_kernels("auto") is NumpyKernels


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernels_reject_bad_indices_and_shapes(backend):
    k = get_kernels(backend)
    src = np.zeros((5, 3), np.float32)
    with pytest.raises(IndexError, match="gather_rows_f32: index 5 at position 1 is out of range for 5 rows"):
        k.gather_rows_f32(src, np.array([0, 5], np.int64), np.zeros((2, 3), np.float32))
    with pytest.raises(IndexError, match="index -1 at position 0"):
        k.gather_rows_f32(src, np.array([-1], np.int64), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="3 indices but dst has only 2 rows"):
        k.gather_rows_f32(src, np.array([0, 1, 2], np.int64), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="src rows have 3 values but dst rows have 4"):
        k.gather_rows_f32(src, np.array([0], np.int64), np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError):  # wrong dtype
        k.gather_rows_f32(src.astype(np.float64), np.array([0], np.int64), np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match="one_hot_gather: label 4 \\(row 1\\) is out of range for 3 classes"):
        k.one_hot_gather(np.array([0, 4], np.int64), np.array([0, 1], np.int64), np.zeros((2, 3), np.float32))
    readonly = np.zeros((2, 3), np.float32)
    readonly.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        k.gather_rows_f32(src, np.array([0], np.int64), readonly)
