# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False, cdivision=True
"""Image augmentation kernels behind pydl.data.augment, on NCHW batches (float32 or float64).

Every kernel reads a batch ``x`` (N, C, H, W) and writes ``out`` of the same shape; images are
independent, so the loop over images runs in parallel (OpenMP ``prange``, GIL released). The
random numbers are drawn by the caller (``augment.py``, from a seeded NumPy Generator) and come
in as arrays: per image (an angle's matrix, a flip, a brightness delta) or per value (noise),
so a result depends on the seed only, never on the thread count.

Arguments are checked before the GIL is released (ValueError naming the kernel and shapes).
``augment.py`` holds NumPy versions with the same names and results.
"""

from cython.parallel cimport prange
from libc.math cimport fabs, floor
from libc.stdint cimport uint8_t

ctypedef fused real_t:
    float
    double

# fill_mode codes (augment.FILL_MODES maps Keras's names to them)
cdef enum:
    FILL_CONSTANT = 0
    FILL_NEAREST = 1
    FILL_REFLECT = 2
    FILL_WRAP = 3

# A source coordinate is clamped to +-COORD_MAX before it becomes an integer (a cast of a huge
# double is undefined behaviour); augment.py rejects transforms that reach that far.
cdef double COORD_MAX = 1e9


cdef int _check_same(str name, tuple xs, tuple outs) except -1:
    if xs != outs:
        raise ValueError(f"{name}: x has shape {xs} but out has shape {outs}")
    return 0


cdef tuple _shape4(const real_t[:, :, :, ::1] a):
    return (a.shape[0], a.shape[1], a.shape[2], a.shape[3])


cdef int _check_per_image(str name, str what, Py_ssize_t got, Py_ssize_t n) except -1:
    if got != n:
        raise ValueError(f"{name}: {what} has {got} entries but the batch has {n} images")
    return 0


# The index that integer position k of an axis of length n reads under fill_mode; -1: fill_value.
#   constant (k k | a b c d | k k), nearest (a a | a b c d | d d),
#   reflect (d c b a | a b c d | d c b a), wrap (a b c d | a b c d | a b c d)
cdef inline Py_ssize_t _source_index(Py_ssize_t k, Py_ssize_t n, int fill_mode) noexcept nogil:
    cdef Py_ssize_t m
    if 0 <= k < n:
        return k
    if fill_mode == FILL_CONSTANT:
        return -1
    if fill_mode == FILL_NEAREST:
        return 0 if k < 0 else n - 1
    if fill_mode == FILL_WRAP:
        m = k % n
        return m + n if m < 0 else m
    m = k % (2 * n)  # reflect: period 2n, the second half mirrored
    if m < 0:
        m = m + 2 * n
    return m if m < n else 2 * n - 1 - m


# A coordinate within SNAP of an integer is that integer: exact transforms (a 90-degree rotation,
# whole-pixel shifts) then copy pixels exactly despite the rounding in sin and cos. Then clamp.
cdef double SNAP = 1e-9


cdef inline double _clamp_coord(double v) noexcept nogil:
    cdef double r = floor(v + 0.5)
    if fabs(v - r) < SNAP:
        v = r
    if v > COORD_MAX:
        return COORD_MAX
    if v < -COORD_MAX:
        return -COORD_MAX
    return v


# out[b, c, i, j] = x[b, c] sampled at (si, sj) = (m0 i + m1 j + m2, m3 i + m4 j + m5), m = mats[b]:
#   nearest:  x[round(si), round(sj)]
#   bilinear: (1-fi) ((1-fj) x[i0, j0] + fj x[i0, j0+1]) + fi ((1-fj) x[i0+1, j0] + fj x[i0+1, j0+1]),
#             i0 = floor(si), fi = si - i0 (the same for j); each neighbour through fill_mode
cdef void _affine_image(const real_t* src, const double* m, real_t* dst, Py_ssize_t c, Py_ssize_t h,
                        Py_ssize_t w, int bilinear, int fill_mode, double fill) noexcept nogil:
    cdef Py_ssize_t i, j, ch, i0, j0, r0, r1, q0, q1, hw = h * w
    cdef double si, sj, fi, fj, v00, v01, v10, v11
    for i in range(h):
        for j in range(w):
            si = _clamp_coord(m[0] * i + m[1] * j + m[2])
            sj = _clamp_coord(m[3] * i + m[4] * j + m[5])
            if not bilinear:
                r0 = _source_index(<Py_ssize_t> floor(si + 0.5), h, fill_mode)
                q0 = _source_index(<Py_ssize_t> floor(sj + 0.5), w, fill_mode)
                for ch in range(c):
                    if r0 < 0 or q0 < 0:
                        dst[ch * hw + i * w + j] = <real_t> fill
                    else:
                        dst[ch * hw + i * w + j] = src[ch * hw + r0 * w + q0]
                continue
            i0 = <Py_ssize_t> floor(si)
            j0 = <Py_ssize_t> floor(sj)
            fi = si - i0
            fj = sj - j0
            r0 = _source_index(i0, h, fill_mode)
            r1 = _source_index(i0 + 1, h, fill_mode)
            q0 = _source_index(j0, w, fill_mode)
            q1 = _source_index(j0 + 1, w, fill_mode)
            for ch in range(c):
                v00 = fill if r0 < 0 or q0 < 0 else src[ch * hw + r0 * w + q0]
                v01 = fill if r0 < 0 or q1 < 0 else src[ch * hw + r0 * w + q1]
                v10 = fill if r1 < 0 or q0 < 0 else src[ch * hw + r1 * w + q0]
                v11 = fill if r1 < 0 or q1 < 0 else src[ch * hw + r1 * w + q1]
                dst[ch * hw + i * w + j] = <real_t> ((1.0 - fi) * ((1.0 - fj) * v00 + fj * v01)
                                                     + fi * ((1.0 - fj) * v10 + fj * v11))


def affine_transform(const real_t[:, :, :, ::1] x, const double[:, ::1] mats, real_t[:, :, :, ::1] out,
                     int bilinear, int fill_mode, double fill_value):
    """out[b] = x[b] resampled at the source coordinates of the (N, 6) matrices ``mats``."""
    cdef Py_ssize_t b, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    cdef Py_ssize_t size = c * h * w
    _check_same("affine_transform", _shape4(x), _shape4(out))
    _check_per_image("affine_transform", "mats", mats.shape[0], n)
    if mats.shape[1] != 6:
        raise ValueError(f"affine_transform: mats must have shape ({n}, 6), got ({mats.shape[0]}, {mats.shape[1]})")
    if fill_mode < FILL_CONSTANT or fill_mode > FILL_WRAP:
        raise ValueError(f"affine_transform: fill_mode code {fill_mode} is not 0..3")
    if size == 0 or n == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            _affine_image(&x[b, 0, 0, 0], &mats[b, 0], &out[b, 0, 0, 0], c, h, w, bilinear, fill_mode,
                          fill_value)


# out[b, c, i, j] = x[b, c, H-1-i if vertical[b] else i, W-1-j if horizontal[b] else j]
def flip(const real_t[:, :, :, ::1] x, const uint8_t[::1] horizontal, const uint8_t[::1] vertical,
         real_t[:, :, :, ::1] out):
    """Flip image b left-right where horizontal[b], upside down where vertical[b]."""
    cdef Py_ssize_t b, ch, i, j, si, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    _check_same("flip", _shape4(x), _shape4(out))
    _check_per_image("flip", "horizontal", horizontal.shape[0], n)
    _check_per_image("flip", "vertical", vertical.shape[0], n)
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                for i in range(h):
                    si = h - 1 - i if vertical[b] else i
                    if horizontal[b]:
                        for j in range(w):
                            out[b, ch, i, j] = x[b, ch, si, w - 1 - j]
                    else:
                        for j in range(w):
                            out[b, ch, i, j] = x[b, ch, si, j]


cdef inline double _clip(double v, double lo, double hi) noexcept nogil:
    return lo if v < lo else (hi if v > hi else v)


# out[b] = clip(x[b] + delta[b], lo, hi)   (in float64, rounded once)
def adjust_brightness(const real_t[:, :, :, ::1] x, const double[::1] delta, real_t[:, :, :, ::1] out,
                      double lo, double hi):
    """Add delta[b] to every value of image b, then clip to [lo, hi] (+-inf: no clipping)."""
    cdef Py_ssize_t b, ch, i, j, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    _check_same("adjust_brightness", _shape4(x), _shape4(out))
    _check_per_image("adjust_brightness", "delta", delta.shape[0], n)
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                for i in range(h):
                    for j in range(w):
                        out[b, ch, i, j] = <real_t> _clip(x[b, ch, i, j] + delta[b], lo, hi)


# out[b, c] = clip((x[b, c] - mean) * factor[b] + mean, lo, hi), mean = the mean of x[b, c] over H, W
def adjust_contrast(const real_t[:, :, :, ::1] x, const double[::1] factor, real_t[:, :, :, ::1] out,
                    double lo, double hi):
    """Scale each channel's deviation from its mean by factor[b], then clip to [lo, hi]."""
    cdef Py_ssize_t b, ch, i, j, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    cdef double mean
    _check_same("adjust_contrast", _shape4(x), _shape4(out))
    _check_per_image("adjust_contrast", "factor", factor.shape[0], n)
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                mean = 0.0
                for i in range(h):
                    for j in range(w):
                        mean = mean + x[b, ch, i, j]
                mean = mean / (h * w)
                for i in range(h):
                    for j in range(w):
                        out[b, ch, i, j] = <real_t> _clip((x[b, ch, i, j] - mean) * factor[b] + mean, lo, hi)


# out = clip(x + stddev * z, lo, hi)   (z standard normal, one per value)
def add_noise(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] z, double stddev,
              real_t[:, :, :, ::1] out, double lo, double hi):
    """Additive noise: x + stddev * z, clipped to [lo, hi] (+-inf: no clipping)."""
    cdef Py_ssize_t b, ch, i, j, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    _check_same("add_noise", _shape4(x), _shape4(out))
    _check_same("add_noise", _shape4(x), _shape4(z))
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                for i in range(h):
                    for j in range(w):
                        out[b, ch, i, j] = <real_t> _clip(x[b, ch, i, j] + stddev * z[b, ch, i, j], lo, hi)


# out = salt where u < amount * salt_fraction, pepper where u < amount otherwise, else x   (u uniform [0, 1))
def salt_and_pepper(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] u, double amount,
                    double salt_fraction, double salt, double pepper, real_t[:, :, :, ::1] out):
    """Set a fraction ``amount`` of the values to salt (the high value) or pepper (the low)."""
    cdef Py_ssize_t b, ch, i, j, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    cdef double t_salt = amount * salt_fraction, v
    _check_same("salt_and_pepper", _shape4(x), _shape4(out))
    _check_same("salt_and_pepper", _shape4(x), _shape4(u))
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                for i in range(h):
                    for j in range(w):
                        v = u[b, ch, i, j]
                        if v < t_salt:
                            out[b, ch, i, j] = <real_t> salt
                        elif v < amount:
                            out[b, ch, i, j] = <real_t> pepper
                        else:
                            out[b, ch, i, j] = x[b, ch, i, j]


# out = 0 where u < rate, else x   (u uniform [0, 1): the denoising autoencoder's masking noise)
def mask(const real_t[:, :, :, ::1] x, const real_t[:, :, :, ::1] u, double rate, real_t[:, :, :, ::1] out):
    """Set each value to 0 with probability ``rate``."""
    cdef Py_ssize_t b, ch, i, j, n = x.shape[0], c = x.shape[1], h = x.shape[2], w = x.shape[3]
    _check_same("mask", _shape4(x), _shape4(out))
    _check_same("mask", _shape4(x), _shape4(u))
    if n == 0 or c * h * w == 0:
        return
    with nogil:
        for b in prange(n, schedule="static"):
            for ch in range(c):
                for i in range(h):
                    for j in range(w):
                        out[b, ch, i, j] = <real_t> 0 if u[b, ch, i, j] < rate else x[b, ch, i, j]
