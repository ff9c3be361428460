"""Mini-batches for ``model.fit``: shuffled, converted and gathered into reused buffers.

:class:`BatchIterator` cuts ``(x, y[, sample_weight])`` into batches, one epoch per
``iter()``. Each batch is gathered row by row into preallocated C-contiguous buffers by the
Cython kernels of ``pydl.data._batching`` (typed memoryviews, GIL released, rows copied in
parallel with OpenMP once a batch passes 1 MB), converting on the way: uint8 pixels to scaled float32, integer labels
to one-hot rows. So a training step makes no temporary NumPy copies (``x[perm[i:j]]`` would
allocate and fill a fresh array every batch).

When the compiled module is missing (a source checkout that was not built), the same
kernels run in NumPy (:class:`NumpyKernels`) with identical results, only slower.
"""

import math
import numbers

import numpy as np

try:
    from . import _batching as _cython_kernels
except ImportError:  # not built: fall back to NumPy
    _cython_kernels = None

HAVE_CYTHON = _cython_kernels is not None


def _check_array(name, what, a, dtypes):
    if not isinstance(a, np.ndarray) or a.ndim != 2 or not a.flags.c_contiguous or a.dtype not in dtypes:
        kinds = " or ".join(str(np.dtype(d)) for d in dtypes)
        raise ValueError(f"{name}: {what} must be a C-contiguous 2-D {kinds} array")


def _check_gather(name, src_rows, src_cols, idx, dst):
    """The argument checks the Cython kernels make, with the same messages and types."""
    if not isinstance(idx, np.ndarray) or idx.ndim != 1 or idx.dtype != np.int64:
        raise ValueError(f"{name}: idx must be a 1-D int64 array")
    if not dst.flags.writeable:
        raise ValueError(f"{name}: dst is read-only")
    if src_cols != dst.shape[1]:
        raise ValueError(f"{name}: src rows have {src_cols} values but dst rows have {dst.shape[1]}")
    if len(idx) > len(dst):
        raise ValueError(f"{name}: {len(idx)} indices but dst has only {len(dst)} rows")
    bad = np.flatnonzero((idx < 0) | (idx >= src_rows))
    if bad.size:
        i = bad[0]
        raise IndexError(f"{name}: index {idx[i]} at position {i} is out of range for {src_rows} rows")


def _check_rows(name, src, idx, dst, src_dtype, dst_dtype):
    _check_array(name, "src", src, (src_dtype,))
    _check_array(name, "dst", dst, (dst_dtype,))
    _check_gather(name, src.shape[0], src.shape[1], idx, dst)


def u8_lut(scale):
    """The uint8 -> float32 table ``lut[v] = float32(v * scale)``, product in float64 as in
    the Cython kernel (a uint8 has only 256 values, so NumPy converts each once)."""
    return (np.arange(256, dtype=np.float64) * float(scale)).astype(np.float32)


class NumpyKernels:
    """NumPy versions of the kernels in ``_batching.pyx``: same names, checks and results."""

    name = "numpy"

    @staticmethod
    def gather_rows_f32(src, idx, dst):
        _check_rows("gather_rows_f32", src, idx, dst, np.float32, np.float32)
        # Indices are checked above; mode="clip" lets np.take write into dst unbuffered.
        np.take(src, idx, axis=0, out=dst[: len(idx)], mode="clip")

    @staticmethod
    def gather_rows_f64(src, idx, dst):
        _check_rows("gather_rows_f64", src, idx, dst, np.float64, np.float64)
        np.take(src, idx, axis=0, out=dst[: len(idx)], mode="clip")

    @staticmethod
    def gather_rows_bytes(src, idx, dst):
        _check_rows("gather_rows_bytes", src, idx, dst, np.uint8, np.uint8)
        np.take(src, idx, axis=0, out=dst[: len(idx)], mode="clip")

    @staticmethod
    def gather_rows_u8_to_f32(src, idx, scale, dst):
        _check_rows("gather_rows_u8_to_f32", src, idx, dst, np.uint8, np.float32)
        np.take(u8_lut(scale), src[idx], out=dst[: len(idx)])

    @staticmethod
    def one_hot_gather(labels, idx, dst):
        _check_array("one_hot_gather", "dst", dst, (np.float32, np.float64))
        if not isinstance(labels, np.ndarray) or labels.ndim != 1 or labels.dtype != np.int64:
            raise ValueError("one_hot_gather: labels must be a 1-D int64 array")
        k = dst.shape[1]
        _check_gather("one_hot_gather", len(labels), k, idx, dst)
        classes = labels[idx]
        bad = np.flatnonzero((classes < 0) | (classes >= k))
        if bad.size:
            i = bad[0]
            raise ValueError(
                f"one_hot_gather: label {classes[i]} (row {idx[i]}) is out of range for {k} classes"
            )
        out = dst[: len(idx)]
        out.fill(0)
        out[np.arange(len(idx)), classes] = 1


def get_kernels(backend="auto"):
    """The kernel set for ``backend``: 'cython', 'numpy', or 'auto' (Cython when built)."""
    if backend == "auto":
        return _cython_kernels if HAVE_CYTHON else NumpyKernels
    if backend == "numpy":
        return NumpyKernels
    if backend == "cython":
        if not HAVE_CYTHON:
            raise ImportError(
                "pydl.data._batching is not built; install pydl (pip install .) to compile it, "
                "or use backend='numpy'"
            )
        return _cython_kernels
    raise ValueError(f"backend must be 'auto', 'cython' or 'numpy', got {backend!r}")


class _Stream:
    """One array gathered batch after batch into the same preallocated buffer."""

    def __init__(self, buf, fill):
        self.buf = buf  # (batch_rows, ...) C-contiguous; batches are views of its first rows
        self.fill = fill  # fill(idx): write the rows idx into buf[:len(idx)]


class BatchIterator:
    """Iterate over ``(x, y[, sample_weight])`` in mini-batches, one epoch per ``iter()``.

    Parameters
    ----------
    x : array (N, ...) of float32, float64 or uint8 (any other numeric dtype is converted
        to float32 once, here). Batches are float32, or float64 for float64 x.
    y : optional array (N, ...): integer class labels (batched as int64, or one-hot with
        ``num_classes``) or float targets (batched in their own dtype).
    batch_size : rows per batch; the last batch of an epoch has the remaining rows.
    shuffle : draw a new permutation of the rows for each epoch.
    seed : int, None or ``numpy.random.Generator`` for the permutations; the same seed
        gives the same sequence of epochs.
    scale : for uint8 x only: each pixel becomes ``float32(v * scale)`` (``1/255`` gives
        exactly ``x.astype('float32') / 255``). Default: no scaling (values 0..255).
    num_classes : one-hot encode integer labels y of shape (N,) or (N, 1) into
        (batch, num_classes) rows (float32; float64 for float64 x).
    sample_weight : optional (N,) per-sample weights; then batches are ``(xb, yb, wb)``.
    backend : 'auto' (the Cython kernels when built), 'cython' or 'numpy'.

    Each batch is ``(xb, yb)`` (``yb`` is None without y) or ``(xb, yb, wb)``. The arrays
    are views into buffers that are reused: the next batch overwrites them, and the last,
    partial batch is a view of the buffers' first rows. Copy a batch (``xb.copy()``) to keep
    it. One epoch at a time: starting a new ``iter()`` reuses the same buffers.
    """

    def __init__(self, x, y=None, batch_size=32, shuffle=True, seed=None, scale=None,
                 num_classes=None, sample_weight=None, backend="auto"):
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1:
            raise ValueError(f"BatchIterator: batch_size must be a positive integer, got {batch_size!r}")
        self._kernels = get_kernels(backend)
        self.backend = "numpy" if self._kernels is NumpyKernels else "cython"

        x = np.asarray(x)
        if x.ndim == 0:
            raise ValueError("BatchIterator: x must have a first (samples) axis, got a scalar")
        n = len(x)
        if n == 0:
            raise ValueError("BatchIterator: x has no samples")
        for what, a in (("y", y), ("sample_weight", sample_weight)):
            if a is not None and (np.ndim(a) == 0 or len(a) != n):
                got = "a scalar" if np.ndim(a) == 0 else f"{len(a)} samples"
                raise ValueError(
                    f"BatchIterator: x has {n} samples but {what} has {got}; "
                    "they must match along the first axis"
                )
        if sample_weight is not None and y is None:
            raise ValueError("BatchIterator: sample_weight needs targets y")

        self.num_samples = n
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.epoch = 0
        self._rows = min(self.batch_size, n)  # buffer rows: no batch is longer than this
        self._rng = np.random.default_rng(seed)
        self._order = np.arange(n, dtype=np.int64)

        self._x = self._x_stream(x, scale)
        float_dtype = self._x.buf.dtype
        self._y = None if y is None else self._y_stream(np.asarray(y), num_classes, float_dtype)
        self._w = None if sample_weight is None else self._w_stream(np.asarray(sample_weight), float_dtype)

    def __len__(self):
        """Batches per epoch."""
        return math.ceil(self.num_samples / self.batch_size)

    def __iter__(self):
        order = self._rng.permutation(self.num_samples) if self.shuffle else self._order
        self.epoch += 1
        streams = [s for s in (self._x, self._y, self._w) if s is not None]
        for start in range(0, self.num_samples, self.batch_size):
            idx = order[start:start + self.batch_size]
            for s in streams:
                s.fill(idx)
            m = len(idx)
            xb = self._x.buf[:m]
            yb = None if self._y is None else self._y.buf[:m]
            if self._w is None:
                yield xb, yb
            else:
                yield xb, yb, self._w.buf[:m]

    # -- building the streams ---------------------------------------------------------

    def _x_stream(self, x, scale):
        k, n, rows = self._kernels, len(x), self._rows
        if scale is not None:
            if x.dtype != np.uint8:
                raise ValueError(
                    f"BatchIterator: scale applies to uint8 x, but x is {x.dtype}; "
                    "scale float data once before batching"
                )
            if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
                raise ValueError(f"BatchIterator: scale must be a finite number, got {scale!r}")
        if x.dtype == np.uint8:
            src = np.ascontiguousarray(x).reshape(n, -1)
            buf = np.empty((rows,) + x.shape[1:], np.float32)
            dst, s = buf.reshape(rows, -1), 1.0 if scale is None else float(scale)
            return _Stream(buf, lambda idx: k.gather_rows_u8_to_f32(src, idx, s, dst))
        if x.dtype == np.float64:
            src = np.ascontiguousarray(x).reshape(n, -1)
            buf = np.empty((rows,) + x.shape[1:], np.float64)
            dst = buf.reshape(rows, -1)
            return _Stream(buf, lambda idx: k.gather_rows_f64(src, idx, dst))
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise ValueError(f"BatchIterator: x must be numeric, got dtype {x.dtype}")
        src = np.ascontiguousarray(x, dtype=np.float32).reshape(n, -1)
        buf = np.empty((rows,) + x.shape[1:], np.float32)
        dst = buf.reshape(rows, -1)
        return _Stream(buf, lambda idx: k.gather_rows_f32(src, idx, dst))

    def _y_stream(self, y, num_classes, float_dtype):
        k, n, rows = self._kernels, len(y), self._rows
        if num_classes is not None:
            labels = _class_labels(y, num_classes)
            buf = np.empty((rows, int(num_classes)), float_dtype)
            return _Stream(buf, lambda idx: k.one_hot_gather(labels, idx, buf))
        if np.issubdtype(y.dtype, np.integer):
            y = y.astype(np.int64, copy=False)
        elif not (np.issubdtype(y.dtype, np.floating) or y.dtype == np.bool_):
            raise ValueError(f"BatchIterator: y must be integer labels or float targets, got dtype {y.dtype}")
        # Targets of any dtype are gathered as raw bytes: one kernel for all of them.
        src = np.ascontiguousarray(y).reshape(n, -1).view(np.uint8)
        buf = np.empty((rows,) + y.shape[1:], y.dtype)
        dst = buf.reshape(rows, -1).view(np.uint8)
        return _Stream(buf, lambda idx: k.gather_rows_bytes(src, idx, dst))

    def _w_stream(self, w, float_dtype):
        k, n, rows = self._kernels, len(w), self._rows
        if w.ndim == 2 and w.shape[1] == 1:
            w = w.reshape(n)
        if w.ndim != 1:
            raise ValueError(f"BatchIterator: sample_weight must have shape ({n},), got {w.shape}")
        if not np.issubdtype(w.dtype, np.number) or not np.all(np.isfinite(w)):
            raise ValueError("BatchIterator: sample_weight must be finite numbers")
        src = np.ascontiguousarray(w, dtype=float_dtype).reshape(n, 1)
        buf = np.empty(rows, float_dtype)
        dst = buf.reshape(rows, 1)
        gather = k.gather_rows_f64 if float_dtype == np.float64 else k.gather_rows_f32
        return _Stream(buf, lambda idx: gather(src, idx, dst))


def _class_labels(y, num_classes):
    """Validate integer labels for one-hot encoding; return them as contiguous int64 (N,)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"BatchIterator: num_classes must be a positive integer, got {num_classes!r}")
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise ValueError(
            f"BatchIterator: num_classes one-hot encodes labels of shape (N,) or (N, 1); "
            f"y has shape {y.shape} (already one-hot? then leave num_classes=None)"
        )
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y) & (y == np.round(y))):
            raise ValueError("BatchIterator: one-hot labels must be whole numbers")
    elif not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"BatchIterator: one-hot labels must be integers, got dtype {y.dtype}")
    lo, hi = y.min(), y.max()
    if lo < 0 or hi >= num_classes:
        bad = lo if lo < 0 else hi
        raise ValueError(
            f"BatchIterator: label {bad} is out of range for num_classes={num_classes} "
            f"(labels must be 0..{num_classes - 1})"
        )
    return np.ascontiguousarray(y, dtype=np.int64)
