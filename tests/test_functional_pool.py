"""Pooling in pydl.functional: max_pool2d, avg_pool2d, global_max_pool2d, global_avg_pool2d.
Forward against a NumPy transcription written here (both backends, float32 and float64, random
shapes, kernels, strides, paddings, dilations, ceil_mode), gradients by gradcheck in float64,
the slides' 4x4 example by hand, ties and NaN, and the bad-input errors."""
import math

import numpy as np
import pytest

import pydl
import pydl.functional as F
from conftest import make_tensor
from pydl.utils import gradcheck

DTYPES = [(pydl.float32, np.float32), (pydl.float64, np.float64)]


# ---------------------------------------------------------------- NumPy transcription
def np_out_len(n, pad_begin, pad_end, k_eff, s, ceil_mode):
    """PyTorch's documented output size; with ceil_mode a last window must start inside the
    input or its leading padding."""
    span = n + pad_begin + pad_end - k_eff
    o = (math.ceil(span / s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + pad_begin:
        o -= 1
    return o


def np_pool(x, kernel, stride, pads, dilation=(1, 1), ceil_mode=False, mode="max", count_include_pad=True):
    """x (N, C, H, W); pads (top, bottom, left, right). Pads x explicitly, then takes every window
    with fancy indexing: positions outside the padded input (ceil_mode's last window) are
    neither values nor counted."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    pt, pb, pl, pr = pads
    keh, kew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    oh, ow = np_out_len(h, pt, pb, keh, sh, ceil_mode), np_out_len(w, pl, pr, kew, sw, ceil_mode)
    # room for ceil_mode's last window beyond the bottom/right padding
    eh = max(0, (oh - 1) * sh + keh - (h + pt + pb))
    ew = max(0, (ow - 1) * sw + kew - (w + pl + pr))
    big = np.zeros((n, c, h + pt + pb + eh, w + pl + pr + ew), dtype=np.float64)
    real = np.zeros(big.shape[2:])          # 1 on x's own positions
    padded = np.zeros(big.shape[2:])        # 1 on the padded input (x and its padding)
    real[pt:pt + h, pl:pl + w] = 1
    padded[:h + pt + pb, :w + pl + pr] = 1
    if mode == "max":
        big[...] = -np.inf
    big[:, :, pt:pt + h, pl:pl + w] = x
    out = np.empty((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            rows = i * sh + dh * np.arange(kh)
            cols = j * sw + dw * np.arange(kw)
            win = big[:, :, rows[:, None], cols[None, :]]
            if mode == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                count = (padded if count_include_pad else real)[rows[:, None], cols[None, :]].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / count
    return out


def keras_same_pads(h, w, kernel, stride, dilation=(1, 1)):
    pads = []
    for n, k, s, d in zip((h, w), kernel, stride, dilation):
        out = -(-n // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return tuple(pads)


def random_case(rng, dilation):
    """A valid random geometry: symmetric pads at most half the (dilated) kernel."""
    while True:
        kh, kw = rng.integers(1, 5, size=2)
        sh, sw = rng.integers(1, 4, size=2)
        dh, dw = rng.integers(1, 3, size=2) if dilation else (1, 1)
        keh, kew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
        ph, pw = rng.integers(0, keh // 2 + 1), rng.integers(0, kew // 2 + 1)
        shape = (int(rng.integers(1, 3)), int(rng.integers(1, 4)), int(rng.integers(1, 10)), int(rng.integers(1, 10)))
        if keh <= shape[2] + 2 * ph and kew <= shape[3] + 2 * pw:
            return dict(shape=shape, kernel=(int(kh), int(kw)), stride=(int(sh), int(sw)),
                        padding=(int(ph), int(pw)), dilation=(int(dh), int(dw)), ceil_mode=bool(rng.integers(0, 2)))


def tol(np_dtype):
    return dict(rtol=1e-5, atol=1e-6) if np_dtype == np.float32 else dict(rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- forward against NumPy
@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_max_pool2d_matches_numpy(backend, dtype, np_dtype):
    rng = np.random.default_rng(1)
    for _ in range(40):
        c = random_case(rng, dilation=True)
        x = rng.standard_normal(c["shape"]).astype(np_dtype)
        y = F.max_pool2d(make_tensor(x, dtype=dtype), c["kernel"], c["stride"], c["padding"], c["dilation"],
                         c["ceil_mode"])
        ph, pw = c["padding"]
        want = np_pool(x.astype(np.float64), c["kernel"], c["stride"], (ph, ph, pw, pw), c["dilation"],
                       c["ceil_mode"], "max")
        assert y.dtype == dtype
        np.testing.assert_array_equal(y.numpy(), want.astype(np_dtype), err_msg=str(c))


@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
@pytest.mark.parametrize("count_include_pad", [True, False])
def test_avg_pool2d_matches_numpy(backend, dtype, np_dtype, count_include_pad):
    rng = np.random.default_rng(2)
    for _ in range(40):
        c = random_case(rng, dilation=False)
        x = rng.standard_normal(c["shape"]).astype(np_dtype)
        y = F.avg_pool2d(make_tensor(x, dtype=dtype), c["kernel"], c["stride"], c["padding"], c["ceil_mode"],
                         count_include_pad)
        ph, pw = c["padding"]
        want = np_pool(x.astype(np.float64), c["kernel"], c["stride"], (ph, ph, pw, pw), ceil_mode=c["ceil_mode"],
                       mode="avg", count_include_pad=count_include_pad)
        assert y.dtype == dtype
        np.testing.assert_allclose(y.numpy(), want, **tol(np_dtype), err_msg=str(c))


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_same_padding_is_keras(backend, mode):
    """'same': ceil(in / stride) outputs, the extra padding at the bottom/right; an average
    divides by the real elements only (Keras)."""
    rng = np.random.default_rng(3)
    for _ in range(30):
        shape = (2, 2, int(rng.integers(1, 12)), int(rng.integers(1, 12)))
        kernel = tuple(int(k) for k in rng.integers(1, 5, size=2))
        stride = tuple(int(s) for s in rng.integers(1, 4, size=2))
        x = rng.standard_normal(shape)
        fn = F.max_pool2d if mode == "max" else F.avg_pool2d
        y = fn(make_tensor(x), kernel, stride, "same")
        assert y.shape == (2, 2, -(-shape[2] // stride[0]), -(-shape[3] // stride[1]))
        want = np_pool(x, kernel, stride, keras_same_pads(shape[2], shape[3], kernel, stride), mode=mode,
                       count_include_pad=False)
        np.testing.assert_allclose(y.numpy(), want, rtol=1e-12, atol=1e-12)


def test_avg_same_by_hand(backend):
    """3x3 input, 2x2 window, stride 2, 'same': padding goes to the bottom row and right column
    and the windows average 4, 2, 2 and 1 real values."""
    x = np.arange(9.0).reshape(1, 1, 3, 3)
    y = F.avg_pool2d(make_tensor(x), 2, padding="same")
    np.testing.assert_allclose(y.numpy()[0, 0], [[(0 + 1 + 3 + 4) / 4, (2 + 5) / 2], [(6 + 7) / 2, 8.0]])
    # count_include_pad=True honoured with 'same' too: the padded zeros count
    y = F.avg_pool2d(make_tensor(x), 2, padding="same", count_include_pad=True)
    np.testing.assert_allclose(y.numpy()[0, 0], [[2.0, 7 / 4], [13 / 4, 8 / 4]])


def test_valid_padding_is_zero(backend):
    x = np.random.default_rng(4).standard_normal((1, 2, 7, 6))
    np.testing.assert_array_equal(F.max_pool2d(make_tensor(x), 3, 2, "valid").numpy(),
                                  F.max_pool2d(make_tensor(x), 3, 2, 0).numpy())
    np.testing.assert_allclose(F.avg_pool2d(make_tensor(x), 3, 2, "valid").numpy(),
                               np_pool(x, (3, 3), (2, 2), (0, 0, 0, 0), mode="avg"))


@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pools_match_numpy(backend, dtype, np_dtype, keepdims):
    x = np.random.default_rng(5).standard_normal((3, 4, 5, 7)).astype(np_dtype)
    for fn, np_fn in [(F.global_max_pool2d, np.max), (F.global_avg_pool2d, np.mean)]:
        y = fn(make_tensor(x, dtype=dtype), keepdims=keepdims)
        want = np_fn(x.astype(np.float64), axis=(2, 3), keepdims=keepdims)
        assert y.shape == want.shape and y.dtype == dtype
        np.testing.assert_allclose(y.numpy(), want, **tol(np_dtype))


@pytest.mark.parametrize("layout", ["strided", "permuted"])
def test_non_contiguous_input(backend, layout):
    x = np.random.default_rng(6).standard_normal((2, 3, 6, 5))
    y = F.max_pool2d(make_tensor(x, layout=layout), 2, 1, 1)
    np.testing.assert_array_equal(y.numpy(), np_pool(x, (2, 2), (1, 1), (1, 1, 1, 1)))


# ---------------------------------------------------------------- the slides' example, ties, NaN
def test_slides_max_pool_2x2_by_hand(backend):
    fmap = np.array([[1, 1, 2, 4],
                     [5, 6, 7, 8],
                     [3, 2, 1, 0],
                     [1, 2, 3, 4]], dtype=np.float64).reshape(1, 1, 4, 4)
    x = make_tensor(fmap, requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.detach().numpy()[0, 0], [[6, 8], [3, 4]])
    y.sum().backward()
    want = np.zeros((4, 4))
    want[1, 1] = want[1, 3] = want[2, 0] = want[3, 3] = 1
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], want)


def test_max_pool_ties_go_to_the_first_maximum(backend):
    x = make_tensor(np.array([[3.0, 3.0, 1.0], [3.0, 2.0, 3.0]]).reshape(1, 1, 2, 3), requires_grad=True)
    F.max_pool2d(x, 2, stride=1).sum().backward()
    # windows {(0,0),(0,1),(1,0),(1,1)} and {(0,1),(0,2),(1,1),(1,2)}: first 3 in scan order
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[1, 1, 0], [0, 0, 0]])


def test_max_pool_nan_is_the_maximum_and_gets_the_gradient(backend):
    v = np.array([[1.0, np.nan], [5.0, 2.0]]).reshape(1, 1, 2, 2)
    x = make_tensor(v, requires_grad=True)
    y = F.max_pool2d(x, 2)
    assert np.isnan(y.detach().numpy()).all()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], [[0, 1], [0, 0]])


def test_two_backwards_accumulate(backend):
    x = make_tensor(np.arange(16.0).reshape(1, 1, 4, 4), requires_grad=True)
    y = F.avg_pool2d(x, 2)
    y.sum().backward(retain_graph=True)
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 1, 4, 4), 0.5))


# ---------------------------------------------------------------- gradients
def distinct(shape, seed):
    """Values without ties, spread so that eps=1e-6 never changes a window's argmax."""
    n = int(np.prod(shape))
    return (np.random.default_rng(seed).permutation(n).reshape(shape) * 0.1 - n * 0.05).astype(np.float64)


def test_gradcheck_max_pool2d(backend):
    rng = np.random.default_rng(7)
    for seed in range(12):
        c = random_case(rng, dilation=True)
        x = make_tensor(distinct(c["shape"], seed), requires_grad=True)
        fn = lambda t: F.max_pool2d(t, c["kernel"], c["stride"], c["padding"], c["dilation"], c["ceil_mode"])  # noqa: E731
        assert gradcheck(fn, [x]), c
    x = make_tensor(distinct((2, 2, 5, 7), 99), requires_grad=True)
    assert gradcheck(lambda t: F.max_pool2d(t, 3, 2, "same"), [x])


@pytest.mark.parametrize("count_include_pad", [True, False])
def test_gradcheck_avg_pool2d(backend, count_include_pad):
    rng = np.random.default_rng(8)
    for seed in range(12):
        c = random_case(rng, dilation=False)
        x = make_tensor(rng.standard_normal(c["shape"]), requires_grad=True)
        fn = lambda t: F.avg_pool2d(t, c["kernel"], c["stride"], c["padding"], c["ceil_mode"], count_include_pad)  # noqa: E731
        assert gradcheck(fn, [x]), c
    x = make_tensor(rng.standard_normal((2, 2, 5, 7)), requires_grad=True)
    assert gradcheck(lambda t: F.avg_pool2d(t, 2, padding="same"), [x])


@pytest.mark.parametrize("keepdims", [False, True])
def test_gradcheck_global_pools(backend, keepdims):
    x = make_tensor(distinct((2, 3, 4, 5), 9), requires_grad=True)
    assert gradcheck(lambda t: F.global_max_pool2d(t, keepdims=keepdims), [x])
    assert gradcheck(lambda t: F.global_avg_pool2d(t, keepdims=keepdims), [x])


# ---------------------------------------------------------------- bad input
X4 = np.zeros((1, 2, 4, 4))


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
def test_bad_input_errors(op):
    fn = getattr(F, op)
    x = make_tensor(X4)
    with pytest.raises(ValueError, match=rf"{op}.*4-D.*\(2, 4, 4\)"):
        fn(make_tensor(np.zeros((2, 4, 4))), 2)
    with pytest.raises(ValueError, match=rf"{op}.*kernel \(5, 5\).*larger than the padded input \(4, 4\).*\(1, 2, 4, 4\)"):
        fn(x, 5)
    with pytest.raises(ValueError, match=rf"{op}.*kernel \(7, 7\).*larger than the padded input \(6, 6\)"):
        fn(x, 7, padding=1)
    with pytest.raises(ValueError, match=rf"{op}: padding .*top 2.* at most half .*kernel \(3, 3\)"):
        fn(x, 3, padding=2)
    for stride in (0, -1, (1, 0)):
        with pytest.raises(ValueError, match=rf"{op}: stride must be positive.*\(1, 2, 4, 4\)"):
            fn(x, 2, stride)
    with pytest.raises(ValueError, match=rf"{op}: stride must be positive"):
        fn(x, 2, 0, padding="same")
    with pytest.raises(ValueError, match=rf"{op}: kernel_size must be positive"):
        fn(x, 0)
    with pytest.raises(ValueError, match=rf"{op}: padding must be"):
        fn(x, 2, padding="full")
    with pytest.raises(TypeError, match=rf"{op}: kernel_size must be an int or a pair"):
        fn(x, (2, 2, 2))
    with pytest.raises(TypeError, match=rf"{op}: ceil_mode must be a bool"):
        fn(x, 2, ceil_mode="yes")


def test_bad_dilation_errors():
    x = make_tensor(X4)
    with pytest.raises(ValueError, match=r"max_pool2d: dilation must be positive"):
        F.max_pool2d(x, 2, dilation=0)
    with pytest.raises(ValueError, match=r"max_pool2d: .*\(dilated\) kernel \(5, 5\) is larger"):
        F.max_pool2d(x, 3, dilation=2)


@pytest.mark.parametrize("op", ["global_max_pool2d", "global_avg_pool2d"])
def test_global_bad_input(op):
    with pytest.raises(ValueError, match=rf"{op}.*4-D.*\(2, 3\)"):
        getattr(F, op)(make_tensor(np.zeros((2, 3))))
    with pytest.raises(ValueError, match=rf"{op}: cannot pool over an empty plane.*\(1, 1, 0, 3\)"):
        getattr(F, op)(make_tensor(np.zeros((1, 1, 0, 3))))


# ---------------------------------------------------------------- max_pool1d
def np_max_pool1d(x, k, s, p, d, ceil_mode):
    """x (N, C, L): a plain 1-D transcription, padding -inf on both sides."""
    n, c, length = x.shape
    k_eff = (k - 1) * d + 1
    o = np_out_len(length, p, p, k_eff, s, ceil_mode)
    big = np.full((n, c, length + 2 * p + k_eff + s), -np.inf)
    big[:, :, p:p + length] = x
    return np.stack([big[:, :, i * s + d * np.arange(k)].max(axis=2) for i in range(o)], axis=2)


@pytest.mark.parametrize("dtype,np_dtype", DTYPES)
def test_max_pool1d_matches_numpy(backend, dtype, np_dtype):
    rng = np.random.default_rng(10)
    done = 0
    while done < 30:
        k, s, d = (int(v) for v in rng.integers(1, 4, size=3))
        p = int(rng.integers(0, ((k - 1) * d + 1) // 2 + 1))
        length = int(rng.integers(1, 12))
        if (k - 1) * d + 1 > length + 2 * p:
            continue
        ceil_mode = bool(rng.integers(0, 2))
        x = rng.standard_normal((2, 3, length)).astype(np_dtype)
        y = F.max_pool1d(make_tensor(x, dtype=dtype), k, s, p, d, ceil_mode)
        np.testing.assert_array_equal(y.numpy(), np_max_pool1d(x.astype(np.float64), k, s, p, d, ceil_mode).astype(np_dtype))
        done += 1


def test_max_pool1d_same_stride_default_and_grad(backend):
    x = np.array([[[1.0, 3.0, 2.0, 5.0, 4.0]]])
    t = make_tensor(x, requires_grad=True)
    y = F.max_pool1d(t, 2, padding="same")  # stride 2: windows [1, 3] [2, 5] [4] (pad at the right)
    np.testing.assert_array_equal(y.detach().numpy(), [[[3.0, 5.0, 4.0]]])
    y.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), [[[0, 1, 0, 1, 1]]])
    x = make_tensor(distinct((2, 2, 9), 11), requires_grad=True)
    assert gradcheck(lambda v: F.max_pool1d(v, 3, 2, 1, 2, True), [x])


def test_max_pool1d_bad_input():
    with pytest.raises(ValueError, match=r"max_pool1d: expected a 3-D input \(N, C, L\), got shape \(1, 1, 4, 4\)"):
        F.max_pool1d(make_tensor(X4[:1, :1]), 2)
    x = make_tensor(np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"max_pool1d on input shape \(1, 2, 4\).*larger than the padded input"):
        F.max_pool1d(x, 5)
    with pytest.raises(ValueError, match=r"max_pool1d on input shape \(1, 2, 4\).*stride must be positive"):
        F.max_pool1d(x, 2, 0)
    with pytest.raises(ValueError, match=r"max_pool1d on input shape \(1, 2, 4\).*at most half"):
        F.max_pool1d(x, 2, padding=2)
    with pytest.raises(TypeError, match=r"max_pool1d: kernel_size must be an int"):
        F.max_pool1d(x, 2.0)


@pytest.mark.parametrize("op", ["max", "avg"])
def test_same_result_whatever_the_thread_count(op):
    """Large enough for the fast kernels' OpenMP path; each output and each plane's gradient is
    computed by one thread, so the results are identical."""
    pydl.set_backend("fast")
    x = np.random.default_rng(12).standard_normal((4, 16, 33, 31))
    results = []
    for threads in (1, 2):
        pydl.set_num_threads(threads)
        t = make_tensor(x, requires_grad=True)
        y = F.max_pool2d(t, 3, 2, 1) if op == "max" else F.avg_pool2d(t, 3, 2, 1)
        (y * y).sum().backward()
        results.append((y.detach().numpy().copy(), t.grad.numpy().copy()))
    np.testing.assert_array_equal(results[0][0], results[1][0])
    np.testing.assert_array_equal(results[0][1], results[1][1])
