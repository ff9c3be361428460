"""pydl.kernels: the course's kernel table, checked against the deck's matrices typed in here and
against what each kernel must do to an image."""
import numpy as np
import pytest

import pydl
from pydl import kernels

# deck 002's table, as printed there (the scale factor and the integer matrix)
DECK = {
    "identity": (1, [[0, 0, 0], [0, 1, 0], [0, 0, 0]]),
    "edge_diagonal": (1, [[1, 0, -1], [0, 0, 0], [-1, 0, 1]]),
    "edge_laplacian_4": (1, [[0, 1, 0], [1, -4, 1], [0, 1, 0]]),
    "edge_laplacian_8": (1, [[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]]),
    "sharpen": (1, [[0, -1, 0], [-1, 5, -1], [0, -1, 0]]),
    "box_blur": (1 / 9, [[1, 1, 1], [1, 1, 1], [1, 1, 1]]),
    "gaussian_blur_3x3": (1 / 16, [[1, 2, 1], [2, 4, 2], [1, 2, 1]]),
    "gaussian_blur_5x5": (1 / 256, [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, 36, 24, 6],
                                   [4, 16, 24, 16, 4], [1, 4, 6, 4, 1]]),
    "unsharp_5x5": (-1 / 256, [[1, 4, 6, 4, 1], [4, 16, 24, 16, 4], [6, 24, -476, 24, 6],
                               [4, 16, 24, 16, 4], [1, 4, 6, 4, 1]]),
}


@pytest.mark.parametrize("name", sorted(DECK))
def test_kernel_matches_the_deck(name):
    scale, rows = DECK[name]
    k = kernels.get(name)
    assert k.dtype == np.float32
    np.testing.assert_allclose(k, scale * np.array(rows, dtype=np.float64), rtol=1e-6, atol=1e-7)


def test_the_table_lists_exactly_the_deck_kernels():
    assert set(kernels.KERNELS) == set(DECK)


@pytest.mark.parametrize("name", ["identity", "sharpen", "box_blur", "gaussian_blur_3x3", "gaussian_blur_5x5",
                                  "unsharp_5x5"])
def test_brightness_preserving_kernels_leave_a_flat_image_flat(name):
    # weights summing to 1: a constant image stays the same constant away from the border
    img = np.full((1, 1, 9, 9), 0.7, dtype=np.float32)
    w = kernels.stack([name])
    out = pydl.functional.conv2d(pydl.tensor(img), pydl.tensor(w)).numpy()
    np.testing.assert_allclose(out, 0.7, rtol=1e-5)


@pytest.mark.parametrize("name", ["edge_diagonal", "edge_laplacian_4", "edge_laplacian_8"])
def test_edge_detectors_give_zero_on_a_flat_image(name):
    img = np.full((1, 1, 8, 8), 3.0, dtype=np.float32)
    out = pydl.functional.conv2d(pydl.tensor(img), pydl.tensor(kernels.stack([name]))).numpy()
    np.testing.assert_allclose(out, 0.0, atol=1e-5)


def test_identity_kernel_in_a_same_conv2d_layer_copies_the_image():
    rng = np.random.default_rng(0)
    x = rng.random((2, 1, 7, 7)).astype(np.float32)
    conv = pydl.layers.Conv2D(2, 3, padding="same", use_bias=False)
    conv(pydl.tensor(x))  # builds the layer
    conv.set_weights([kernels.stack(["identity", "box_blur"])])
    y = conv(pydl.tensor(x)).detach().numpy()
    np.testing.assert_allclose(y[:, 0], x[:, 0], rtol=1e-6)
    # the box blur at an inner pixel: the mean of its 3x3 neighbourhood, by hand
    np.testing.assert_allclose(y[1, 1, 3, 4], x[1, 0, 2:5, 3:6].mean(), rtol=1e-5)


def test_stack_repeats_over_input_channels():
    w = kernels.stack(["sharpen", kernels.BOX_BLUR], in_channels=3)
    assert w.shape == (2, 3, 3, 3)
    for c in range(3):
        np.testing.assert_array_equal(w[0, c], kernels.SHARPEN)
        np.testing.assert_array_equal(w[1, c], kernels.BOX_BLUR)


def test_constants_are_read_only_and_get_returns_a_copy():
    with pytest.raises(ValueError):
        kernels.SHARPEN[0, 0] = 1
    k = kernels.get("SHARPEN")
    k[0, 0] = 9
    assert kernels.SHARPEN[0, 0] == 0


def test_bad_names_and_shapes():
    with pytest.raises(ValueError, match="unknown kernel 'sharpn'.*sharpen"):
        kernels.get("sharpn")
    with pytest.raises(ValueError, match="one size"):
        kernels.stack(["sharpen", "gaussian_blur_5x5"])
    with pytest.raises(ValueError, match="in_channels"):
        kernels.stack(["sharpen"], in_channels=0)
