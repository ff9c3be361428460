# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Row-gather kernels behind pydl.data.BatchIterator.

Each kernel copies the rows ``src[idx[i]]`` into ``dst[i]`` for ``i < len(idx)`` (a
"gather"), converting on the way where asked. Data are 2-D C-contiguous (N, D) views: the
caller reshapes (N, 28, 28) images to (N, 784). Rows are independent, so the loop over rows
runs in parallel (OpenMP ``prange``) once a batch is big enough to pay for waking threads.

Every kernel checks its arguments before the GIL is released: an index outside the source,
a destination too small, a label outside the one-hot width raise IndexError/ValueError,
never a crash. ``batching.py`` holds NumPy versions with the same names and results.
"""

from cython.parallel cimport prange
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memcpy, memset

ctypedef fused real_t:
    float
    double

# Below this many bytes per batch one thread copies about as fast as a team of threads,
# and cannot be held up by a team member the OS has not scheduled yet (a 128 x 784 float32
# MNIST batch, 400 KB, takes ~30 us on one core).
cdef Py_ssize_t PARALLEL_MIN_BYTES = 1 << 20


cdef int _check_gather(str name, Py_ssize_t src_rows, Py_ssize_t src_cols, const int64_t[::1] idx,
                       Py_ssize_t dst_rows, Py_ssize_t dst_cols) except -1:
    cdef Py_ssize_t i
    cdef int64_t j
    if src_cols != dst_cols:
        raise ValueError(f"{name}: src rows have {src_cols} values but dst rows have {dst_cols}")
    if idx.shape[0] > dst_rows:
        raise ValueError(f"{name}: {idx.shape[0]} indices but dst has only {dst_rows} rows")
    for i in range(idx.shape[0]):
        j = idx[i]
        if j < 0 or j >= src_rows:
            raise IndexError(f"{name}: index {j} at position {i} is out of range for {src_rows} rows")
    return 0


cdef inline bint _parallel(Py_ssize_t n, Py_ssize_t row_bytes) noexcept nogil:
    return n > 1 and n * row_bytes >= PARALLEL_MIN_BYTES


# dst[i, :] = src[idx[i], :]   (bytes; any dtype)
cdef void _copy_rows(const uint8_t* src, const int64_t* idx, uint8_t* dst,
                     Py_ssize_t n, Py_ssize_t row_bytes) noexcept nogil:
    cdef Py_ssize_t i
    if _parallel(n, row_bytes):
        for i in prange(n, schedule="static"):
            memcpy(dst + i * row_bytes, src + idx[i] * row_bytes, row_bytes)
    else:
        for i in range(n):
            memcpy(dst + i * row_bytes, src + idx[i] * row_bytes, row_bytes)


def gather_rows_f32(const float[:, ::1] src, const int64_t[::1] idx, float[:, ::1] dst):
    """dst[i] = src[idx[i]] for i < len(idx); float32 (N, D) -> (B, D)."""
    _check_gather("gather_rows_f32", src.shape[0], src.shape[1], idx, dst.shape[0], dst.shape[1])
    if idx.shape[0] == 0 or src.shape[1] == 0:
        return
    with nogil:
        _copy_rows(<const uint8_t*> &src[0, 0], &idx[0], <uint8_t*> &dst[0, 0],
                   idx.shape[0], src.shape[1] * sizeof(float))


def gather_rows_f64(const double[:, ::1] src, const int64_t[::1] idx, double[:, ::1] dst):
    """dst[i] = src[idx[i]] for i < len(idx); float64 (N, D) -> (B, D)."""
    _check_gather("gather_rows_f64", src.shape[0], src.shape[1], idx, dst.shape[0], dst.shape[1])
    if idx.shape[0] == 0 or src.shape[1] == 0:
        return
    with nogil:
        _copy_rows(<const uint8_t*> &src[0, 0], &idx[0], <uint8_t*> &dst[0, 0],
                   idx.shape[0], src.shape[1] * sizeof(double))


def gather_rows_bytes(const uint8_t[:, ::1] src, const int64_t[::1] idx, uint8_t[:, ::1] dst):
    """dst[i] = src[idx[i]] on raw bytes: any dtype, viewed as uint8 (N, D * itemsize)."""
    _check_gather("gather_rows_bytes", src.shape[0], src.shape[1], idx, dst.shape[0], dst.shape[1])
    if idx.shape[0] == 0 or src.shape[1] == 0:
        return
    with nogil:
        _copy_rows(&src[0, 0], &idx[0], &dst[0, 0], idx.shape[0], src.shape[1])


# dst[i, k] = float32(src[idx[i], k] * scale)   (product in float64)
cdef inline void _u8_row(const uint8_t* s, double scale, float* d, Py_ssize_t cols) noexcept nogil:
    cdef Py_ssize_t k
    for k in range(cols):
        d[k] = <float> (s[k] * scale)


def gather_rows_u8_to_f32(const uint8_t[:, ::1] src, const int64_t[::1] idx, double scale,
                          float[:, ::1] dst):
    """dst[i] = float32(src[idx[i]] * scale): uint8 pixels to scaled float32 rows.

    The product is taken in float64 and rounded once to float32, so ``scale = 1/255``
    gives exactly ``x.astype('float32') / 255`` (a float32 product would differ in the
    last bit for about half the pixel values) at half the speed of a float32 multiply.
    """
    cdef Py_ssize_t i, n = idx.shape[0], cols = src.shape[1]
    cdef const uint8_t* s0
    cdef float* d0
    _check_gather("gather_rows_u8_to_f32", src.shape[0], cols, idx, dst.shape[0], dst.shape[1])
    if n == 0 or cols == 0:
        return
    s0 = &src[0, 0]
    d0 = &dst[0, 0]
    with nogil:
        if _parallel(n, cols * sizeof(float)):
            for i in prange(n, schedule="static"):
                _u8_row(s0 + idx[i] * cols, scale, d0 + i * cols, cols)
        else:
            for i in range(n):
                _u8_row(s0 + idx[i] * cols, scale, d0 + i * cols, cols)


# dst[i, :] = 0; dst[i, labels[idx[i]]] = 1
def one_hot_gather(const int64_t[::1] labels, const int64_t[::1] idx, real_t[:, ::1] dst):
    """One-hot rows for the gathered labels: float32 or float64 dst (B, num_classes)."""
    cdef Py_ssize_t i, n = idx.shape[0], k = dst.shape[1]
    cdef int64_t c
    _check_gather("one_hot_gather", labels.shape[0], k, idx, dst.shape[0], k)
    for i in range(n):
        c = labels[idx[i]]
        if c < 0 or c >= k:
            raise ValueError(f"one_hot_gather: label {c} (row {idx[i]}) is out of range for {k} classes")
    if n == 0 or k == 0:
        return
    with nogil:
        if _parallel(n, k * sizeof(real_t)):
            for i in prange(n, schedule="static"):
                memset(&dst[i, 0], 0, k * sizeof(real_t))
                dst[i, labels[idx[i]]] = 1
        else:
            for i in range(n):
                memset(&dst[i, 0], 0, k * sizeof(real_t))
                dst[i, labels[idx[i]]] = 1
