"""pydl.data.augment: each transform against NumPy computed independently (np.rot90, slicing, a
per-pixel loop over an image padded with np.pad), the Cython kernels against their NumPy
fallback, the random augmentations' Keras ranges, determinism given a seed, values in range,
noise statistics, the Augment batch transform, and the argument errors.

The Cython cases skip (saying so) when ``pydl.data._augment`` is not built.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pydl.data import augment as A
from pydl.data.augment import HAVE_CYTHON, Augment, NumpyKernels, get_kernels

NOT_BUILT = "pydl.data._augment (the Cython kernels) is not built; only the NumPy fallback was tested"
BACKENDS = [
    pytest.param("numpy"),
    pytest.param("cython", marks=pytest.mark.skipif(not HAVE_CYTHON, reason=NOT_BUILT)),
]
needs_cython = pytest.mark.skipif(not HAVE_CYTHON, reason=NOT_BUILT)
FILL_MODES = ["constant", "nearest", "reflect", "wrap"]
INTERPOLATIONS = ["nearest", "bilinear"]


def images(shape, seed=0, dtype=np.float32):
    return np.random.default_rng(seed).random(shape).astype(dtype)


# -- an independent reference: pad the image the way fill_mode extends it, then sample ------

NP_PAD = {"constant": "constant", "nearest": "edge", "reflect": "symmetric", "wrap": "wrap"}


def ref_sample(img, coords, interpolation, fill_mode, fill_value):
    """img (C, H, W) sampled at coords(i, j) -> (si, sj) for every output pixel, with a
    per-pixel loop over the image extended by np.pad (numpy's 'symmetric' is Keras's reflect)."""
    c, h, w = img.shape
    p = 3 * max(h, w)
    kw = {"constant_values": fill_value} if fill_mode == "constant" else {}
    big = np.pad(img.astype(np.float64), ((0, 0), (p, p), (p, p)), mode=NP_PAD[fill_mode], **kw)
    out = np.empty((c, h, w))
    for i in range(h):
        for j in range(w):
            si, sj = coords(i, j)
            if interpolation == "nearest":
                out[:, i, j] = big[:, int(math.floor(si + 0.5)) + p, int(math.floor(sj + 0.5)) + p]
                continue
            i0, j0 = math.floor(si), math.floor(sj)
            a, b = si - i0, sj - j0
            r, q = i0 + p, j0 + p
            out[:, i, j] = ((1 - a) * (1 - b) * big[:, r, q] + (1 - a) * b * big[:, r, q + 1]
                            + a * (1 - b) * big[:, r + 1, q] + a * b * big[:, r + 1, q + 1])
    return out


def rotation_coords(theta, h, w):
    """Counter-clockwise by theta as displayed (x right, y up): the source is z * e^{-i theta}."""
    cy, cx = (h - 1) / 2, (w - 1) / 2

    def coords(i, j):
        z = complex(j - cx, -(i - cy)) * complex(math.cos(theta), -math.sin(theta))
        return cy - z.imag, cx + z.real
    return coords


# -- geometry ------------------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_quarter_turns_are_np_rot90_exactly(backend, fill_mode, interpolation):
    x = images((3, 2, 6, 6))
    for k in (1, 2, 3, -1):
        got = A.rotate(x, k * math.pi / 2, interpolation, fill_mode, 0.5, backend=backend)
        np.testing.assert_array_equal(got, np.rot90(x, k, axes=(2, 3)))
    # half a turn of a non-square image too
    y = images((2, 3, 5, 8), seed=1)
    np.testing.assert_array_equal(A.rotate(y, math.pi, interpolation, fill_mode, backend=backend),
                                  y[:, :, ::-1, ::-1])


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
@pytest.mark.parametrize("interpolation", INTERPOLATIONS)
def test_rotation_matches_the_padded_per_pixel_loop(backend, fill_mode, interpolation):
    x = images((3, 2, 7, 9), seed=3)
    angles = np.array([0.3, -1.1, 2.5])
    got = A.rotate(x, angles, interpolation, fill_mode, 0.25, backend=backend)
    for b in range(3):
        want = ref_sample(x[b], rotation_coords(angles[b], 7, 9), interpolation, fill_mode, 0.25)
        np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_translation_and_zoom_match_the_loop(backend, fill_mode):
    x = images((2, 1, 6, 7), seed=4)
    dy, dx = np.array([1.5, -2.25]), np.array([-0.75, 3.0])
    got = A.translate(x, dy, dx, "bilinear", fill_mode, 0.5, backend=backend)
    zh, zw = np.array([0.7, 1.3]), np.array([1.2, 0.6])
    zoomed = A.zoom(x, zh, zw, "bilinear", fill_mode, 0.5, backend=backend)
    cy, cx = 2.5, 3.0
    for b in range(2):
        want = ref_sample(x[b], lambda i, j: (i - dy[b], j - dx[b]), "bilinear", fill_mode, 0.5)
        np.testing.assert_allclose(got[b], want, rtol=0, atol=1e-6)
        want = ref_sample(x[b], lambda i, j: (cy + zh[b] * (i - cy), cx + zw[b] * (j - cx)), "bilinear",
                          fill_mode, 0.5)
        np.testing.assert_allclose(zoomed[b], want, rtol=0, atol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_whole_pixel_shift_is_slicing_with_the_fill(backend):
    x = images((1, 2, 5, 6), seed=5)
    got = A.translate(x, 2, -1, "bilinear", "constant", -3.0, backend=backend)
    want = np.full_like(x, -3.0)
    want[:, :, 2:, :5] = x[:, :, :3, 1:]  # down 2 rows, left 1 column
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fill_mode", FILL_MODES)
def test_zero_shift_zoom_one_and_zero_angle_are_the_identity(backend, fill_mode):
    x = images((2, 3, 5, 4), seed=6)
    for interpolation in INTERPOLATIONS:
        np.testing.assert_array_equal(A.translate(x, 0, 0, interpolation, fill_mode, backend=backend), x)
        np.testing.assert_array_equal(A.zoom(x, 1, 1, interpolation, fill_mode, backend=backend), x)
        np.testing.assert_array_equal(A.rotate(x, 0, interpolation, fill_mode, backend=backend), x)


@pytest.mark.parametrize("backend", BACKENDS)
def test_flip_is_slicing(backend):
    x = images((4, 2, 3, 5), seed=7)
    got = A.flip(x, [0, 1, 0, 1], [0, 0, 1, 1], backend=backend)
    np.testing.assert_array_equal(got[0], x[0])
    np.testing.assert_array_equal(got[1], x[1, :, :, ::-1])
    np.testing.assert_array_equal(got[2], x[2, :, ::-1, :])
    np.testing.assert_array_equal(got[3], x[3, :, ::-1, ::-1])


def test_a_single_channel_batch_without_the_channel_axis_keeps_its_shape():
    x = images((3, 6, 6))
    got = A.rotate(x, math.pi / 2)
    assert got.shape == (3, 6, 6)
    np.testing.assert_array_equal(got, np.rot90(x, 1, axes=(1, 2)))


# -- colour and noise ----------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_brightness_and_contrast_against_numpy(backend):
    x = images((3, 2, 4, 5), seed=8)
    delta = np.array([0.3, -0.2, 0.0])
    got = A.adjust_brightness(x, delta, (0.0, 1.0), backend=backend)
    np.testing.assert_allclose(got, np.clip(x + delta[:, None, None, None], 0, 1), rtol=0, atol=1e-7)
    f = np.array([0.5, 1.7, 1.0])
    got = A.adjust_contrast(x, f, (0.0, 1.0), backend=backend)
    mean = x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
    want = np.clip((x - mean) * f[:, None, None, None] + mean, 0, 1)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-6)
    # without value_range nothing is clipped
    got = A.adjust_contrast(x, 3.0, backend=backend)
    np.testing.assert_allclose(got, (x - mean) * 3 + mean, rtol=0, atol=1e-6)
    assert got.min() < 0 and got.max() > 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_gaussian_noise_is_x_plus_stddev_times_the_generators_normals(backend):
    x = images((50, 1, 28, 28), seed=9)
    got = A.gaussian_noise(x, 0.3, np.random.default_rng(11), backend=backend)
    z = np.random.default_rng(11).standard_normal(x.shape, dtype=np.float32)
    np.testing.assert_allclose(got, x + 0.3 * z.astype(np.float64), rtol=0, atol=1e-6)
    noise = (got - x).astype(np.float64)
    assert abs(noise.std() - 0.3) < 0.01 and abs(noise.mean()) < 0.01  # 39200 draws: se ~0.0015
    clipped = A.gaussian_noise(x, 0.3, np.random.default_rng(11), value_range=(0, 1), backend=backend)
    assert clipped.min() == 0.0 and clipped.max() == 1.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_masking_noise_zeroes_about_rate_of_the_values(backend):
    x = images((40, 1, 28, 28), seed=10) + 0.5  # no zeros to start with
    got = A.masking_noise(x, 0.3, np.random.default_rng(0), backend=backend)
    masked = got == 0
    # 31360 values: the fraction's standard error is sqrt(0.3 * 0.7 / 31360) ~ 0.0026
    assert abs(masked.mean() - 0.3) < 0.015
    np.testing.assert_array_equal(got[~masked], x[~masked])
    np.testing.assert_array_equal(A.masking_noise(x, 0.0, np.random.default_rng(0), backend=backend), x)
    assert not A.masking_noise(x, 1.0, np.random.default_rng(0), backend=backend).any()


@pytest.mark.parametrize("backend", BACKENDS)
def test_noises_take_a_flattened_batch(backend):
    x = images((30, 784), seed=18) + 0.5
    got = A.masking_noise(x, 0.5, np.random.default_rng(2), backend=backend)
    u = np.random.default_rng(2).random((30, 784), dtype=np.float32)
    np.testing.assert_array_equal(got, np.where(u < 0.5, 0, x))  # the generator's uniforms, in order
    got = A.gaussian_noise(x, 0.1, np.random.default_rng(2), backend=backend)
    assert got.shape == (30, 784) and abs((got - x).std() - 0.1) < 0.005
    got = A.salt_and_pepper(x, 0.2, np.random.default_rng(2), value_range=(0, 2), backend=backend)
    assert got.shape == (30, 784) and abs(np.isin(got, (0.0, 2.0)).mean() - 0.2) < 0.02


@pytest.mark.parametrize("backend", BACKENDS)
def test_salt_and_pepper_fractions(backend):
    x = np.full((40, 1, 28, 28), 0.5, np.float32)
    got = A.salt_and_pepper(x, 0.2, np.random.default_rng(1), salt_vs_pepper=0.25, value_range=(-1, 2),
                            backend=backend)
    salt, pepper = got == 2, got == -1
    assert set(np.unique(got).tolist()) == {-1.0, 0.5, 2.0}
    assert abs((salt | pepper).mean() - 0.2) < 0.015
    assert abs(salt.sum() / (salt | pepper).sum() - 0.25) < 0.03  # ~6300 noisy values


# -- Cython against the NumPy fallback -----------------------------------------------------

@needs_cython
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cython_and_numpy_kernels_agree_bit_for_bit(dtype, seed):
    rng = np.random.default_rng(seed)
    shape = (int(rng.integers(1, 5)), int(rng.integers(1, 4)), int(rng.integers(1, 9)), int(rng.integers(1, 9)))
    x = images(shape, seed, dtype)
    n = shape[0]

    def both(fn, *args, **kwargs):
        a, b = fn(x, *args, backend="numpy", **kwargs), fn(x, *args, backend="cython", **kwargs)
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)

    mats = rng.uniform(-3, 3, (n, 6))
    for fm in FILL_MODES:
        for it in INTERPOLATIONS:
            both(A.affine_transform, mats, it, fm, -0.5)
    both(A.flip, rng.integers(0, 2, n), rng.integers(0, 2, n))
    both(A.adjust_brightness, rng.uniform(-1, 1, n), (0.1, 0.9))
    both(A.adjust_contrast, rng.uniform(0, 2, n), (0.1, 0.9))
    for fn, args in ((A.gaussian_noise, (0.4,)), (A.masking_noise, (0.3,)), (A.salt_and_pepper, (0.3,)),
                     (A.random_rotation, (0.2,)), (A.random_zoom, (0.3,)), (A.random_translation, (0.2, 0.3)),
                     (A.random_flip, ("horizontal_and_vertical",)), (A.random_brightness, (0.3,)),
                     (A.random_contrast, (0.3,))):
        both(lambda x, backend: fn(x, *args, np.random.default_rng(seed + 100), backend=backend))


@needs_cython
@settings(max_examples=60, deadline=None)
@given(n=st.integers(0, 3), c=st.integers(1, 3), h=st.integers(1, 9), w=st.integers(1, 9),
       fill_mode=st.sampled_from(FILL_MODES), interpolation=st.sampled_from(INTERPOLATIONS),
       dtype=st.sampled_from([np.float32, np.float64]), seed=st.integers(0, 2 ** 32 - 1))
def test_affine_kernels_agree_on_random_shapes_and_transforms(n, c, h, w, fill_mode, interpolation, dtype, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(dtype)
    # scaled rotations, shears and shifts that reach well outside the image (every fill_mode branch)
    mats = rng.uniform(-2, 2, (n, 6)) * np.array([1, 1, 2 * h, 1, 1, 2 * w])
    a = A.affine_transform(x, mats, interpolation, fill_mode, 1.5, backend="numpy")
    b = A.affine_transform(x, mats, interpolation, fill_mode, 1.5, backend="cython")
    assert a.shape == b.shape == x.shape and a.dtype == b.dtype == dtype
    np.testing.assert_array_equal(a, b)


@needs_cython
def test_cython_results_do_not_depend_on_the_thread_count():
    import pydl
    x = images((64, 3, 12, 12), seed=21)
    threads = pydl.get_num_threads()
    try:
        outs = []
        for n in (1, 2, 3):
            pydl.set_num_threads(n)
            outs.append(A.random_rotation(x, 0.2, np.random.default_rng(0), backend="cython"))
    finally:
        pydl.set_num_threads(threads)
    for out in outs[1:]:
        np.testing.assert_array_equal(out, outs[0])


def test_kernel_sets_and_backend_names():
    assert get_kernels("numpy") is NumpyKernels
    assert get_kernels("auto") is (get_kernels("cython") if HAVE_CYTHON else NumpyKernels)
    with pytest.raises(ValueError, match="backend"):
        get_kernels("fortran")


@pytest.mark.parametrize("backend", BACKENDS)
def test_kernels_check_shapes_before_running(backend):
    k = get_kernels(backend)
    x = images((2, 1, 4, 4))
    with pytest.raises(ValueError, match="out"):
        k.flip(x, np.zeros(2, np.uint8), np.zeros(2, np.uint8), np.empty((2, 1, 4, 5), np.float32))
    with pytest.raises(ValueError, match="horizontal"):
        k.flip(x, np.zeros(3, np.uint8), np.zeros(2, np.uint8), np.empty_like(x))
    with pytest.raises(ValueError, match="mats"):
        k.affine_transform(x, np.zeros((2, 5)), np.empty_like(x), 1, 0, 0.0)
    with pytest.raises(ValueError, match="fill_mode"):
        k.affine_transform(x, np.zeros((2, 6)), np.empty_like(x), 1, 7, 0.0)
    with pytest.raises(ValueError, match="delta"):
        k.adjust_brightness(x, np.zeros(3), np.empty_like(x), 0.0, 1.0)


# -- the random augmentations: Keras's ranges, determinism, bounds -------------------------

@pytest.mark.parametrize("backend", BACKENDS)
def test_factor_ranges_are_keras_fractions(backend):
    x = images((3, 2, 8, 8), seed=12)
    rng = np.random.default_rng(0)
    # a quarter turn (factor * 2 pi), counter-clockwise
    np.testing.assert_array_equal(A.random_rotation(x, (0.25, 0.25), rng, backend=backend),
                                  np.rot90(x, 1, axes=(2, 3)))
    # a quarter of the height down and an eighth of the width left: 2 rows, 1 column
    got = A.random_translation(x, (0.25, 0.25), (-0.125, -0.125), rng, fill_mode="constant", backend=backend)
    want = np.zeros_like(x)
    want[:, :, 2:, :7] = x[:, :, :6, 1:]
    np.testing.assert_array_equal(got, want)
    # zoom 1 + (-0.5) samples the middle half: out[i] = x[3.5 + 0.5 (i - 3.5)]
    got = A.random_zoom(x, (-0.5, -0.5), rng, fill_mode="constant", backend=backend)
    np.testing.assert_allclose(got[0], ref_sample(x[0], lambda i, j: (1.75 + 0.5 * i, 1.75 + 0.5 * j), "bilinear",
                                                  "constant", 0.0), atol=1e-6)
    # brightness: factor times the width of value_range
    got = A.random_brightness(x, (0.1, 0.1), rng, value_range=(0, 2), backend=backend)
    np.testing.assert_allclose(got, np.clip(x + 0.2, 0, 2), atol=1e-6)


def test_random_contrast_draws_factors_in_one_minus_lower_to_one_plus_upper():
    x = images((400, 1, 5, 5), seed=13)
    got = A.random_contrast(x, (0.2, 0.5), np.random.default_rng(0), value_range=(-100, 100))
    x64 = x.astype(np.float64)
    dev = x64 - x64.mean(axis=(2, 3), keepdims=True)
    far = np.abs(dev) > 0.1  # where the float32 rounding of the output is small beside the deviation
    ratio = (got - (x64 - dev)) / np.where(far, dev, 1.0)
    f = np.array([r[m].mean() for r, m in zip(ratio, far)])
    for r, m, fi in zip(ratio, far, f):  # one factor per image
        np.testing.assert_allclose(r[m], fi, atol=1e-5)
    assert f.min() >= 0.8 - 1e-5 and f.max() <= 1.5 + 1e-5
    assert f.min() < 0.85 and f.max() > 1.45  # 400 draws reach near both ends


def test_random_flip_modes_flip_half_the_images():
    x = images((400, 1, 3, 4), seed=14)
    for mode, h_want, v_want in (("horizontal", True, False), ("vertical", False, True),
                                 ("horizontal_and_vertical", True, True)):
        got = A.random_flip(x, mode, np.random.default_rng(0))
        h = np.array([np.array_equal(g, xi[:, :, ::-1]) or np.array_equal(g, xi[:, ::-1, ::-1])
                      for g, xi in zip(got, x)])
        v = np.array([np.array_equal(g, xi[:, ::-1, :]) or np.array_equal(g, xi[:, ::-1, ::-1])
                      for g, xi in zip(got, x)])
        same = np.array([np.array_equal(g, xi) for g, xi in zip(got, x)])
        assert (0.4 < h.mean() < 0.6) if h_want else not h.any()
        assert (0.4 < v.mean() < 0.6) if v_want else not v.any()
        assert same.mean() < (0.35 if mode == "horizontal_and_vertical" else 0.6)


RANDOM_OPS = [
    ("random_rotation", (0.1,), {}), ("random_translation", (0.2, 0.2), {}), ("random_zoom", (0.3,), {}),
    ("random_flip", ("horizontal_and_vertical",), {}), ("random_brightness", (0.4,), {"value_range": (0, 1)}),
    ("random_contrast", (0.6,), {"value_range": (0, 1)}), ("gaussian_noise", (0.5,), {"value_range": (0, 1)}),
    ("salt_and_pepper", (0.3,), {}), ("masking_noise", (0.3,), {}),
]


@pytest.mark.parametrize("name,args,kwargs", RANDOM_OPS)
def test_same_seed_same_result_other_seed_other_result_and_in_range(name, args, kwargs):
    fn = getattr(A, name)
    x = images((16, 1, 10, 10), seed=15)
    before = x.copy()
    a = fn(x, *args, np.random.default_rng(5), **kwargs)
    b = fn(x, *args, np.random.default_rng(5), **kwargs)
    c = fn(x, *args, np.random.default_rng(6), **kwargs)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_array_equal(x, before)  # the input is not changed
    # images in [0, 1), fill 0, value_range (0, 1): every output stays in [0, 1]
    assert a.dtype == np.float32 and a.min() >= 0.0 and a.max() <= 1.0


# -- the Augment batch transform -----------------------------------------------------------

def test_augment_applies_its_ops_in_order_with_one_generator():
    x = images((8, 1, 12, 12), seed=16)
    ops = [lambda x, rng: A.random_rotation(x, 15 / 360, rng, fill_mode="constant"),
           lambda x, rng: A.masking_noise(x, 0.25, rng)]
    aug = Augment(ops, seed=3)
    first, second = aug(x), aug(x)
    rng = np.random.default_rng(3)
    want1 = A.masking_noise(A.random_rotation(x, 15 / 360, rng, fill_mode="constant"), 0.25, rng)
    want2 = A.masking_noise(A.random_rotation(x, 15 / 360, rng, fill_mode="constant"), 0.25, rng)
    np.testing.assert_array_equal(first, want1)
    np.testing.assert_array_equal(second, want2)
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(Augment(ops, seed=3)(x), first)


def test_augment_in_a_generator_of_batches():
    from pydl.data import BatchIterator
    x, y = images((20, 1, 6, 6), seed=17), np.arange(20)
    aug = Augment([lambda x, rng: A.random_flip(x, "horizontal", rng)], seed=0)

    def batches():
        for xb, yb in BatchIterator(x, y, batch_size=8, shuffle=False):
            yield aug(xb), yb.copy()

    out = list(batches())
    assert [len(b[0]) for b in out] == [8, 8, 4]
    xs, ys = np.concatenate([b[0] for b in out]), np.concatenate([b[1] for b in out])
    np.testing.assert_array_equal(ys, y)
    for xi, gi in zip(x, xs):  # each image is itself or its mirror
        assert np.array_equal(gi, xi) or np.array_equal(gi, xi[:, :, ::-1])


def test_augment_of_a_flattened_batch_with_a_noise():
    x = images((10, 784), seed=19)
    got = Augment([lambda x, rng: A.masking_noise(x, 0.5, rng)], seed=4)(x)
    u = np.random.default_rng(4).random((10, 784), dtype=np.float32)
    np.testing.assert_array_equal(got, np.where(u < 0.5, 0, x))


def test_augment_errors():
    with pytest.raises(TypeError, match="Augment"):
        Augment([42])
    with pytest.raises(TypeError, match="uint8"):
        Augment([], seed=0)(np.zeros((2, 1, 3, 3), np.uint8))
    with pytest.raises(ValueError, match="seed"):
        Augment([], seed=-1)


# -- argument errors -----------------------------------------------------------------------

@pytest.mark.parametrize("call,exc,match", [
    (lambda x: A.rotate(x, 0.1, fill_mode="mirror"), ValueError, "fill_mode"),
    (lambda x: A.rotate(x, 0.1, interpolation="bicubic"), ValueError, "interpolation"),
    (lambda x: A.rotate(x, [0.1, 0.2, 0.3]), ValueError, r"angles.*\(2,\)"),
    (lambda x: A.rotate(x, float("nan")), ValueError, "finite"),
    (lambda x: A.rotate(x.astype(np.int32), 0.1), TypeError, "float32 or float64"),
    (lambda x: A.rotate(x[0, 0, 0], 0.1), ValueError, r"\(N, C, H, W\)"),
    (lambda x: A.affine_transform(x, np.full((2, 6), 1e12)), ValueError, "matrices"),
    (lambda x: A.random_translation(x, 1.5, 0.1, np.random.default_rng()), ValueError, "height_factor"),
    (lambda x: A.random_zoom(x, (0.3, 0.1), np.random.default_rng()), ValueError, "lower bound"),
    (lambda x: A.random_rotation(x, "a lot", np.random.default_rng()), TypeError, "factor"),
    (lambda x: A.random_flip(x, "diagonal", np.random.default_rng()), ValueError, "mode"),
    (lambda x: A.random_brightness(x, 0.1, np.random.default_rng(), value_range=(1, 0)), ValueError, "value_range"),
    (lambda x: A.random_contrast(x, 1.5, np.random.default_rng()), ValueError, "factor"),
    (lambda x: A.random_contrast(x, (0.2, 1.5), np.random.default_rng()), ValueError, r"\[0, 1\]"),
    (lambda x: A.gaussian_noise(x, -1.0, np.random.default_rng()), ValueError, "stddev"),
    (lambda x: A.masking_noise(x, 1.5, np.random.default_rng()), ValueError, "rate"),
    (lambda x: A.salt_and_pepper(x, 0.1, np.random.default_rng(), salt_vs_pepper=2), ValueError, "salt_vs_pepper"),
])
def test_bad_arguments_raise_naming_the_function(call, exc, match):
    with pytest.raises(exc, match=match):
        call(images((2, 1, 4, 4)))
