"""Image augmentation for NCHW batches: the kernels, the random draws, and a batch transform.

Three levels, each built on the one before:

* **Deterministic transforms** with explicit per-image parameters: :func:`rotate` (angles in
  radians, counter-clockwise), :func:`translate` (pixels), :func:`zoom`, :func:`affine_transform`,
  :func:`flip`, :func:`adjust_brightness`, :func:`adjust_contrast`. They run the Cython kernels of
  ``pydl.data._augment`` (typed memoryviews, GIL released, ``prange`` over images), or their NumPy
  transcriptions here (:class:`NumpyKernels`, same results) when the module is not built.
* **Random augmentations** that draw their parameters from a NumPy ``Generator`` and call the
  transforms: :func:`random_rotation`, :func:`random_translation`, :func:`random_zoom`,
  :func:`random_flip`, :func:`random_brightness`, :func:`random_contrast`, :func:`gaussian_noise`,
  :func:`salt_and_pepper`, :func:`masking_noise`. Arguments and defaults are Keras 3's
  preprocessing layers' (``pydl.layers.RandomRotation`` etc. call these in training).
  The same generator state gives the same result, whatever the thread count.
* :class:`Augment`: a list of augmentations applied in turn to NumPy batches with one seeded
  generator, for a batch pipeline::

      aug = Augment([layers.RandomRotation(15 / 360, fill_mode="constant"),
                     layers.RandomTranslation(0.1, 0.1, fill_mode="constant"),
                     lambda x, rng: masking_noise(x, 0.2, rng)], seed=0)

      def batches(x, y, batch_size=128):
          while True:                        # an endless generator of augmented batches
              for xb, yb in BatchIterator(x, y, batch_size=batch_size, seed=1):
                  yield aug(xb), yb.copy()   # aug returns a new array; yb is a reused buffer

Geometry: pixel (i, j) is row i, column j; the centre is ((H-1)/2, (W-1)/2). An affine
transform maps each output pixel to a source coordinate, sampled with ``interpolation``
('nearest': the closest pixel, halves rounded up; or 'bilinear') and, outside the image,
``fill_mode`` (Keras's names):
'constant' (k k | a b c d | k k, with k = ``fill_value``), 'nearest' (a a | a b c d | d d),
'reflect' (d c b a | a b c d | d c b a), 'wrap' (a b c d | a b c d | a b). Bilinear sampling
maps each of the four neighbours through ``fill_mode``. A source coordinate within 1e-9 pixel
of an integer is taken as that integer, so exact transforms (90-degree rotations, whole-pixel
shifts, zoom 1) reproduce the pixels exactly despite rounding in sin and cos.
"""

import math
import numbers

import numpy as np

try:
    from . import _augment as _cython_kernels
except ImportError:  # not built: fall back to NumPy
    _cython_kernels = None

HAVE_CYTHON = _cython_kernels is not None

FILL_MODES = {"constant": 0, "nearest": 1, "reflect": 2, "wrap": 3}
INTERPOLATIONS = ("nearest", "bilinear")
FLIP_MODES = ("horizontal", "vertical", "horizontal_and_vertical")
# |matrix entry| above this would send coordinates past the kernels' clamp (1e9 pixels)
_MAX_MATRIX_ENTRY = 1e6
_SNAP = 1e-9  # see the module docstring


# -- the NumPy transcriptions of _augment.pyx ---------------------------------------------

def _check_same(name, what, a, x):
    if a.shape != x.shape:
        raise ValueError(f"{name}: x has shape {x.shape} but {what} has shape {a.shape}")


def _check_kernel_batch(name, x, out, *others):
    for what, a in (("x", x), ("out", out)) + others:
        if not isinstance(a, np.ndarray) or a.ndim != 4 or not a.flags.c_contiguous or a.dtype != x.dtype:
            raise ValueError(f"{name}: {what} must be a C-contiguous 4-D array of x's dtype {x.dtype}")
    if not out.flags.writeable:
        raise ValueError(f"{name}: out is read-only")
    for what, a in (("out", out),) + others:
        _check_same(name, what, a, x)


def _check_per_image(name, what, a, n, dtype):
    if not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype != dtype:
        raise ValueError(f"{name}: {what} must be a 1-D {np.dtype(dtype)} array")
    if len(a) != n:
        raise ValueError(f"{name}: {what} has {len(a)} entries but the batch has {n} images")


def _source_index(k, n, fill_mode):
    """The index each integer position k of an axis of length n reads; -1 means fill_value."""
    inside = (k >= 0) & (k < n)
    if fill_mode == FILL_MODES["constant"]:
        m = np.full_like(k, -1)
    elif fill_mode == FILL_MODES["nearest"]:
        m = np.clip(k, 0, n - 1)
    elif fill_mode == FILL_MODES["wrap"]:
        m = np.mod(k, n)
    else:  # reflect: period 2n, the second half mirrored
        m = np.mod(k, 2 * n)
        m = np.where(m < n, m, 2 * n - 1 - m)
    return np.where(inside, k, m)


def _snap(v):
    r = np.floor(v + 0.5)
    return np.where(np.abs(v - r) < _SNAP, r, v)


def _gather(x, r, q, fill):
    """x[b, :, r[b], q[b]] as (N, C, H, W) in float64; fill where r or q is -1."""
    b = np.arange(x.shape[0])[:, None, None]
    v = x[b, :, np.maximum(r, 0), np.maximum(q, 0)].astype(np.float64)  # (N, H, W, C)
    v[(r < 0) | (q < 0)] = fill
    return v.transpose(0, 3, 1, 2)


class NumpyKernels:
    """NumPy versions of the kernels in ``_augment.pyx``: same names, checks and results."""

    name = "numpy"

    @staticmethod
    def affine_transform(x, mats, out, bilinear, fill_mode, fill_value):
        _check_kernel_batch("affine_transform", x, out)
        n, _, h, w = x.shape
        if not isinstance(mats, np.ndarray) or mats.dtype != np.float64 or mats.ndim != 2 or mats.shape != (n, 6):
            raise ValueError(f"affine_transform: mats must be a float64 array of shape ({n}, 6)")
        if fill_mode not in FILL_MODES.values():
            raise ValueError(f"affine_transform: fill_mode code {fill_mode} is not 0..3")
        if x.size == 0:
            return
        i = np.arange(h, dtype=np.float64)[None, :, None]
        j = np.arange(w, dtype=np.float64)[None, None, :]
        m = [mats[:, k, None, None] for k in range(6)]
        si = np.clip(_snap(m[0] * i + m[1] * j + m[2]), -1e9, 1e9)
        sj = np.clip(_snap(m[3] * i + m[4] * j + m[5]), -1e9, 1e9)
        fill = float(fill_value)
        if not bilinear:
            r = _source_index(np.floor(si + 0.5).astype(np.int64), h, fill_mode)
            q = _source_index(np.floor(sj + 0.5).astype(np.int64), w, fill_mode)
            out[...] = _gather(x, r, q, fill)
            return
        i0, j0 = np.floor(si), np.floor(sj)
        fi, fj = (si - i0)[:, None], (sj - j0)[:, None]
        i0, j0 = i0.astype(np.int64), j0.astype(np.int64)
        r0, r1 = _source_index(i0, h, fill_mode), _source_index(i0 + 1, h, fill_mode)
        q0, q1 = _source_index(j0, w, fill_mode), _source_index(j0 + 1, w, fill_mode)
        v00, v01 = _gather(x, r0, q0, fill), _gather(x, r0, q1, fill)
        v10, v11 = _gather(x, r1, q0, fill), _gather(x, r1, q1, fill)
        out[...] = (1.0 - fi) * ((1.0 - fj) * v00 + fj * v01) + fi * ((1.0 - fj) * v10 + fj * v11)

    @staticmethod
    def flip(x, horizontal, vertical, out):
        _check_kernel_batch("flip", x, out)
        _check_per_image("flip", "horizontal", horizontal, len(x), np.uint8)
        _check_per_image("flip", "vertical", vertical, len(x), np.uint8)
        y = np.where(vertical.astype(bool)[:, None, None, None], x[:, :, ::-1, :], x)
        out[...] = np.where(horizontal.astype(bool)[:, None, None, None], y[:, :, :, ::-1], y)

    @staticmethod
    def adjust_brightness(x, delta, out, lo, hi):
        _check_kernel_batch("adjust_brightness", x, out)
        _check_per_image("adjust_brightness", "delta", delta, len(x), np.float64)
        out[...] = np.clip(x.astype(np.float64) + delta[:, None, None, None], lo, hi)

    @staticmethod
    def adjust_contrast(x, factor, out, lo, hi):
        _check_kernel_batch("adjust_contrast", x, out)
        _check_per_image("adjust_contrast", "factor", factor, len(x), np.float64)
        if x.size == 0:
            return
        n, c, h, w = x.shape
        x64 = x.astype(np.float64)
        # cumsum adds in order, as the kernel's loop does (np.sum's pairwise order rounds differently)
        mean = x64.reshape(n, c, h * w).cumsum(axis=2)[:, :, -1:, None] / (h * w)
        out[...] = np.clip((x64 - mean) * factor[:, None, None, None] + mean, lo, hi)

    @staticmethod
    def add_noise(x, z, stddev, out, lo, hi):
        _check_kernel_batch("add_noise", x, out, ("z", z))
        out[...] = np.clip(x.astype(np.float64) + stddev * z.astype(np.float64), lo, hi)

    @staticmethod
    def salt_and_pepper(x, u, amount, salt_fraction, salt, pepper, out):
        _check_kernel_batch("salt_and_pepper", x, out, ("u", u))
        u = u.astype(np.float64)
        out[...] = np.where(u < amount * salt_fraction, salt, np.where(u < amount, pepper, x))

    @staticmethod
    def mask(x, u, rate, out):
        _check_kernel_batch("mask", x, out, ("u", u))
        out[...] = np.where(u.astype(np.float64) < rate, 0, x)


def get_kernels(backend="auto"):
    """The kernel set for ``backend``: 'cython', 'numpy', or 'auto' (Cython when built)."""
    if backend == "auto":
        return _cython_kernels if HAVE_CYTHON else NumpyKernels
    if backend == "numpy":
        return NumpyKernels
    if backend == "cython":
        if not HAVE_CYTHON:
            raise ImportError(
                "pydl.data._augment is not built; install pydl (pip install .) to compile it, "
                "or use backend='numpy'"
            )
        return _cython_kernels
    raise ValueError(f"backend must be 'auto', 'cython' or 'numpy', got {backend!r}")


# -- argument checks (shared with pydl.layers.preprocessing) -------------------------------

def _is_real(v):
    return isinstance(v, numbers.Real) and not isinstance(v, bool) and math.isfinite(v)


def factor_range(owner, name, factor, lo=-math.inf, hi=math.inf, symmetric=True):
    """Keras's factor: a number f means (-|f|, |f|) (``symmetric``) or (f, f), a pair is (lower,
    upper); each bound in [lo, hi], lower <= upper. Returns (lower, upper) as floats."""
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or not all(_is_real(v) for v in factor):
            raise ValueError(f"{owner}: {name} must be a number or a pair (lower, upper), got {factor!r}")
        lower, upper = float(factor[0]), float(factor[1])
    elif _is_real(factor):
        f = abs(float(factor)) if symmetric else float(factor)  # Keras: f and -f give (-|f|, |f|)
        lower, upper = (-f, f) if symmetric else (f, f)
    else:
        raise TypeError(f"{owner}: {name} must be a number or a pair (lower, upper), got {factor!r}")
    if lower > upper:
        raise ValueError(f"{owner}: {name} has lower bound {lower} above upper bound {upper}")
    if lower < lo or upper > hi:
        raise ValueError(f"{owner}: {name} must lie in [{lo}, {hi}], got ({lower}, {upper})")
    return lower, upper


def contrast_factor_arg(owner, factor):
    """RandomContrast's factor: a number f means lower = upper = f, a pair (lower, upper);
    both in [0, 1] as Keras (the contrast is drawn from [1 - lower, 1 + upper])."""
    if isinstance(factor, (tuple, list)) and len(factor) == 2 and all(_is_real(v) for v in factor):
        lower, upper = float(factor[0]), float(factor[1])  # not an interval: lower > upper is fine
    else:
        lower, upper = factor_range(owner, "factor", factor, symmetric=False)
    if not (0 <= lower <= 1 and 0 <= upper <= 1):
        raise ValueError(f"{owner}: factor bounds must be in [0, 1] (the contrast is drawn from "
                         f"[1 - lower, 1 + upper]), got ({lower}, {upper})")
    return lower, upper


def value_range_arg(owner, value_range, allow_none=False):
    """(low, high) with low < high, or None where allowed (no clipping)."""
    if value_range is None and allow_none:
        return None
    if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
            or not all(_is_real(v) for v in value_range) or not value_range[0] < value_range[1]):
        raise ValueError(f"{owner}: value_range must be a pair (low, high) with low < high, got {value_range!r}")
    return float(value_range[0]), float(value_range[1])


def fill_mode_arg(owner, fill_mode):
    if fill_mode not in FILL_MODES:
        raise ValueError(f"{owner}: fill_mode must be one of {sorted(FILL_MODES)}, got {fill_mode!r}")
    return fill_mode


def interpolation_arg(owner, interpolation):
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"{owner}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
    return interpolation


def fill_value_arg(owner, fill_value):
    if not _is_real(fill_value):
        raise ValueError(f"{owner}: fill_value must be a finite number, got {fill_value!r}")
    return float(fill_value)


def rate_arg(owner, name, rate, upper_open=True):
    if not _is_real(rate) or rate < 0 or (rate >= 1 if upper_open else rate > 1):
        raise ValueError(f"{owner}: {name} must be in [0, {'1)' if upper_open else '1]'}, got {rate!r}")
    return float(rate)


def _batch(owner, x):
    """x as a C-contiguous (N, C, H, W) float array and the shape to return ((N, H, W) is one channel)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner}: x must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{owner}: x must be float32 or float64 images, got dtype {x.dtype} "
                        "(convert uint8 pixels first, e.g. x.astype('float32') / 255)")
    if x.ndim == 3:
        return np.ascontiguousarray(x)[:, None], x.shape
    if x.ndim != 4:
        raise ValueError(f"{owner}: x must be a batch of images (N, C, H, W) or (N, H, W), got shape {x.shape}")
    return np.ascontiguousarray(x), x.shape


def _values(owner, x):
    """For the per-value noises: x of any shape (N, ...) as a C-contiguous (N, 1, 1, rest) float
    array, and the shape to return (a flattened (N, 784) batch works as well as images)."""
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner}: x must be a NumPy array, got {type(x).__name__}")
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{owner}: x must be float32 or float64, got dtype {x.dtype} "
                        "(convert uint8 pixels first, e.g. x.astype('float32') / 255)")
    if x.ndim == 0:
        raise ValueError(f"{owner}: x must be a batch (N, ...), got a scalar")
    return np.ascontiguousarray(x).reshape(len(x), 1, 1, -1), x.shape


def _per_image(owner, name, v, n):
    a = np.asarray(v, dtype=np.float64)
    a = np.full(n, float(a)) if a.ndim == 0 else a
    if a.shape != (n,):
        raise ValueError(f"{owner}: {name} must be one number or one per image ({n},), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{owner}: {name} must be finite")
    return np.ascontiguousarray(a)


def _clip_bounds(value_range):
    return (-math.inf, math.inf) if value_range is None else value_range


# -- deterministic transforms ---------------------------------------------------------------

def affine_transform(x, matrices, interpolation="bilinear", fill_mode="constant", fill_value=0.0, backend="auto"):
    """Resample image b at the source coordinates ``(si, sj) = (m0 i + m1 j + m2, m3 i + m4 j + m5)``
    of its row ``m = matrices[b]`` (shape (N, 6)). Returns a new array of x's shape and dtype."""
    owner = "affine_transform"
    k = get_kernels(backend)
    x4, shape = _batch(owner, x)
    mats = np.ascontiguousarray(np.asarray(matrices, dtype=np.float64))
    if mats.shape != (len(x4), 6):
        raise ValueError(f"{owner}: matrices must have shape ({len(x4)}, 6) for {len(x4)} images, got {mats.shape}")
    if not np.all(np.isfinite(mats)) or np.any(np.abs(mats) > _MAX_MATRIX_ENTRY):
        raise ValueError(f"{owner}: matrices must be finite, with entries at most {_MAX_MATRIX_ENTRY:g} in size")
    out = np.empty_like(x4)
    k.affine_transform(x4, mats, out, interpolation_arg(owner, interpolation) == "bilinear",
                       FILL_MODES[fill_mode_arg(owner, fill_mode)], fill_value_arg(owner, fill_value))
    return out.reshape(shape)


def _centre(x4):
    return (x4.shape[2] - 1) / 2.0, (x4.shape[3] - 1) / 2.0


def rotate(x, angles, interpolation="bilinear", fill_mode="constant", fill_value=0.0, backend="auto"):
    """Rotate image b by ``angles[b]`` radians counter-clockwise (as displayed, row 0 on top)
    about its centre; ``angles`` one number or one per image."""
    x4, _ = _batch("rotate", x)
    a = _per_image("rotate", "angles", angles, len(x4))
    cy, cx = _centre(x4)
    c, s = np.cos(a), np.sin(a)
    # source of output (i, j): (cy + c (i - cy) + s (j - cx), cx - s (i - cy) + c (j - cx))
    mats = np.stack([c, s, cy - c * cy - s * cx, -s, c, cx + s * cy - c * cx], axis=1)
    return affine_transform(x, mats, interpolation, fill_mode, fill_value, backend)


def translate(x, dy, dx, interpolation="bilinear", fill_mode="constant", fill_value=0.0, backend="auto"):
    """Shift image b down by ``dy[b]`` and right by ``dx[b]`` pixels (negative: up, left);
    out[i, j] = x[i - dy, j - dx]."""
    x4, _ = _batch("translate", x)
    n = len(x4)
    dy, dx = _per_image("translate", "dy", dy, n), _per_image("translate", "dx", dx, n)
    one, zero = np.ones(n), np.zeros(n)
    mats = np.stack([one, zero, -dy, zero, one, -dx], axis=1)
    return affine_transform(x, mats, interpolation, fill_mode, fill_value, backend)


def zoom(x, zh, zw, interpolation="bilinear", fill_mode="constant", fill_value=0.0, backend="auto"):
    """Zoom about the centre: out[i, j] = x[cy + zh (i - cy), cx + zw (j - cx)]. A factor above 1
    shows more of the image (zooming out), below 1 less (zooming in), as Keras's 1 + factor."""
    x4, _ = _batch("zoom", x)
    n = len(x4)
    zh, zw = _per_image("zoom", "zh", zh, n), _per_image("zoom", "zw", zw, n)
    cy, cx = _centre(x4)
    zero = np.zeros(n)
    mats = np.stack([zh, zero, cy - zh * cy, zero, zw, cx - zw * cx], axis=1)
    return affine_transform(x, mats, interpolation, fill_mode, fill_value, backend)


def flip(x, horizontal, vertical, backend="auto"):
    """Flip image b left-right where ``horizontal[b]``, upside down where ``vertical[b]`` (bools,
    one number or one per image)."""
    k = get_kernels(backend)
    x4, shape = _batch("flip", x)
    n = len(x4)
    h = np.ascontiguousarray(np.broadcast_to(np.asarray(horizontal, dtype=bool), (n,)), dtype=np.uint8)
    v = np.ascontiguousarray(np.broadcast_to(np.asarray(vertical, dtype=bool), (n,)), dtype=np.uint8)
    out = np.empty_like(x4)
    k.flip(x4, h, v, out)
    return out.reshape(shape)


def adjust_brightness(x, delta, value_range=None, backend="auto"):
    """x[b] + delta[b], clipped to ``value_range`` (None: not clipped)."""
    k = get_kernels(backend)
    x4, shape = _batch("adjust_brightness", x)
    lo, hi = _clip_bounds(value_range_arg("adjust_brightness", value_range, allow_none=True))
    out = np.empty_like(x4)
    k.adjust_brightness(x4, _per_image("adjust_brightness", "delta", delta, len(x4)), out, lo, hi)
    return out.reshape(shape)


def adjust_contrast(x, factor, value_range=None, backend="auto"):
    """(x[b, c] - mean) * factor[b] + mean, the mean of each image's channel over its pixels,
    clipped to ``value_range`` (None: not clipped)."""
    k = get_kernels(backend)
    x4, shape = _batch("adjust_contrast", x)
    lo, hi = _clip_bounds(value_range_arg("adjust_contrast", value_range, allow_none=True))
    out = np.empty_like(x4)
    k.adjust_contrast(x4, _per_image("adjust_contrast", "factor", factor, len(x4)), out, lo, hi)
    return out.reshape(shape)


# -- random augmentations (Keras 3's preprocessing layers' arguments and defaults) ---------

def random_rotation(x, factor, rng, fill_mode="reflect", interpolation="bilinear", fill_value=0.0,
                    backend="auto"):
    """Rotate each image by an angle drawn uniformly from ``factor * 2 pi`` (a number f: [-f, f];
    a pair: [lower, upper]); positive is counter-clockwise. The course's 15 degrees: 15 / 360."""
    lower, upper = factor_range("random_rotation", "factor", factor)
    x4, _ = _batch("random_rotation", x)
    angles = rng.uniform(lower, upper, len(x4)) * (2.0 * math.pi)
    return rotate(x, angles, interpolation, fill_mode, fill_value, backend)


def random_translation(x, height_factor, width_factor, rng, fill_mode="reflect", interpolation="bilinear",
                       fill_value=0.0, backend="auto"):
    """Shift each image by a fraction of its height (positive: down) and of its width
    (positive: right) drawn uniformly from the factors' ranges (each bound in [-1, 1])."""
    hl, hu = factor_range("random_translation", "height_factor", height_factor, -1.0, 1.0)
    wl, wu = factor_range("random_translation", "width_factor", width_factor, -1.0, 1.0)
    x4, _ = _batch("random_translation", x)
    n, h, w = len(x4), x4.shape[2], x4.shape[3]
    dy = rng.uniform(hl, hu, n) * h
    dx = rng.uniform(wl, wu, n) * w
    return translate(x, dy, dx, interpolation, fill_mode, fill_value, backend)


def random_zoom(x, height_factor, rng, width_factor=None, fill_mode="reflect", interpolation="bilinear",
                fill_value=0.0, backend="auto"):
    """Zoom each image by 1 + a factor drawn from ``height_factor`` vertically and from
    ``width_factor`` horizontally (None: the vertical zoom, keeping the aspect ratio). A positive
    factor zooms out, a negative one in; each bound in [-1, 1]."""
    hl, hu = factor_range("random_zoom", "height_factor", height_factor, -1.0, 1.0)
    wr = None if width_factor is None else factor_range("random_zoom", "width_factor", width_factor, -1.0, 1.0)
    x4, _ = _batch("random_zoom", x)
    n = len(x4)
    zh = 1.0 + rng.uniform(hl, hu, n)
    zw = zh if wr is None else 1.0 + rng.uniform(wr[0], wr[1], n)
    return zoom(x, zh, zw, interpolation, fill_mode, fill_value, backend)


def random_flip(x, mode, rng, backend="auto"):
    """Flip each image left-right ('horizontal'), upside down ('vertical'), or each of the two
    ('horizontal_and_vertical', the two independently), each with probability 1/2."""
    if mode not in FLIP_MODES:
        raise ValueError(f"random_flip: mode must be one of {FLIP_MODES}, got {mode!r}")
    x4, _ = _batch("random_flip", x)
    n = len(x4)
    h = rng.random(n) < 0.5 if mode != "vertical" else np.zeros(n, bool)
    v = rng.random(n) < 0.5 if mode != "horizontal" else np.zeros(n, bool)
    return flip(x, h, v, backend)


def random_brightness(x, factor, rng, value_range=(0, 255), backend="auto"):
    """Add to each image a delta drawn from ``factor`` (a number f: [-f, f]; bounds in [-1, 1])
    times the width of ``value_range``, then clip to ``value_range``."""
    lower, upper = factor_range("random_brightness", "factor", factor, -1.0, 1.0)
    lo, hi = value_range_arg("random_brightness", value_range)
    x4, _ = _batch("random_brightness", x)
    delta = rng.uniform(lower, upper, len(x4)) * (hi - lo)
    return adjust_brightness(x, delta, (lo, hi), backend)


def random_contrast(x, factor, rng, value_range=(0, 255), backend="auto"):
    """Scale each image's deviation from its per-channel mean by a factor drawn from
    [1 - lower, 1 + upper] (a number f: lower = upper = f; bounds in [0, 1]), then clip to ``value_range``."""
    lower, upper = contrast_factor_arg("random_contrast", factor)
    lo, hi = value_range_arg("random_contrast", value_range)
    x4, _ = _batch("random_contrast", x)
    f = rng.uniform(1.0 - lower, 1.0 + upper, len(x4))
    return adjust_contrast(x, f, (lo, hi), backend)


def gaussian_noise(x, stddev, rng, value_range=None, backend="auto"):
    """x + N(0, stddev^2), one draw per value; clipped to ``value_range`` if given. x: images
    or any batch (N, ...), as for :func:`salt_and_pepper` and :func:`masking_noise`."""
    if not _is_real(stddev) or stddev < 0:
        raise ValueError(f"gaussian_noise: stddev must be a finite number >= 0, got {stddev!r}")
    vr = value_range_arg("gaussian_noise", value_range, allow_none=True)
    k = get_kernels(backend)
    x4, shape = _values("gaussian_noise", x)
    z = rng.standard_normal(x4.shape, dtype=x4.dtype)
    out = np.empty_like(x4)
    lo, hi = _clip_bounds(vr)
    k.add_noise(x4, z, float(stddev), out, lo, hi)
    return out.reshape(shape)


def salt_and_pepper(x, amount, rng, salt_vs_pepper=0.5, value_range=(0, 1), backend="auto"):
    """Set each value, with probability ``amount``, to value_range's high end (salt, with
    probability ``salt_vs_pepper``) or its low end (pepper)."""
    amount = rate_arg("salt_and_pepper", "amount", amount, upper_open=False)
    svp = rate_arg("salt_and_pepper", "salt_vs_pepper", salt_vs_pepper, upper_open=False)
    lo, hi = value_range_arg("salt_and_pepper", value_range)
    k = get_kernels(backend)
    x4, shape = _values("salt_and_pepper", x)
    u = rng.random(x4.shape, dtype=x4.dtype)
    out = np.empty_like(x4)
    k.salt_and_pepper(x4, u, amount, svp, hi, lo, out)
    return out.reshape(shape)


def masking_noise(x, rate, rng, backend="auto"):
    """Set each value to 0 with probability ``rate`` (the denoising autoencoder's corrupted input)."""
    rate = rate_arg("masking_noise", "rate", rate, upper_open=False)
    k = get_kernels(backend)
    x4, shape = _values("masking_noise", x)
    u = rng.random(x4.shape, dtype=x4.dtype)
    out = np.empty_like(x4)
    k.mask(x4, u, rate, out)
    return out.reshape(shape)


# -- the batch transform --------------------------------------------------------------------

def generator(seed=None):
    """A NumPy Generator: from ``seed`` (int or Generator, used as given), or for None from
    pydl's generator (so ``pydl.manual_seed`` repeats the run)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"seed must be None, a non-negative int or a numpy Generator, got {seed!r}")
    from ..initializers import _rng
    return _rng(seed)


class Augment:
    """Apply augmentations in turn to NumPy batches, with one seeded generator.

    ``ops``: a list of pydl preprocessing layers (``RandomRotation``, ``RandomFlip``, ...: their
    ``transform(x, rng)``, which runs whatever ``training`` is) or callables ``f(x, rng)``
    returning the augmented batch (e.g. ``lambda x, rng: masking_noise(x, 0.3, rng)``).
    ``seed``: int, numpy Generator, or None (drawn from pydl's generator). The same seed gives the
    same sequence of augmented batches. Calling on a float batch, (N, C, H, W) or (N, H, W) images
    (or (N, ...) for the per-value noises alone), returns a new array of its shape; the input is
    never changed. See the module docstring for a
    generator of augmented batches.
    """

    def __init__(self, ops, seed=None):
        ops = list(ops)
        for op in ops:
            if not (hasattr(op, "transform") or callable(op)):
                raise TypeError(f"Augment: each op must be a preprocessing layer or a callable f(x, rng), got {op!r}")
        self.ops = ops
        self.rng = generator(seed)

    def __call__(self, x):
        x = np.asarray(x)
        _values("Augment", x)  # the dtype check, before any op runs; each op checks its shapes
        out = x.copy()
        for op in self.ops:
            out = op.transform(out, self.rng) if hasattr(op, "transform") else op(out, self.rng)
        return out

    def __repr__(self):
        return f"Augment({self.ops!r})"
