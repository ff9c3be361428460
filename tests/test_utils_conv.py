"""pydl.utils.conv_output_shape against the slides' grids and against what the ops produce."""
import itertools

import numpy as np
import pytest

import pydl
from pydl import functional as F
from pydl.utils import conv_output_shape


def test_the_slides_grids():
    # deck 003: a 6x6 image, a 3x3 filter: 4x4 at stride 1, 2x2 at stride 2
    assert conv_output_shape((6, 6), 3) == (4, 4)
    assert conv_output_shape((6, 6), 3, strides=2) == (2, 2)
    # 2x2 max pooling of the 4x4 map: 2x2
    assert conv_output_shape((4, 4), 2, strides=2) == (2, 2)
    # the example CNN on MNIST: 28 -conv3-> 26 -pool2-> 13 -conv3-> 11 -pool2-> 5
    assert conv_output_shape(28, 3) == 26
    assert conv_output_shape(26, 2, strides=2) == 13
    assert conv_output_shape(13, 3) == 11
    assert conv_output_shape(11, 2, strides=2) == 5


@pytest.mark.parametrize("size,k,s,d,p", list(itertools.product([5, 8, 11], [1, 2, 3], [1, 2, 3], [1, 2],
                                                                 ["valid", "same", 0, 1, 2])))
def test_matches_conv2d(size, k, s, d, p):
    span = d * (k - 1) + 1
    pad = 0 if isinstance(p, str) else p
    if p != "same" and size + 2 * pad < span:
        pytest.skip("the window does not fit")
    x = pydl.zeros(1, 1, size, size + 1)
    w = pydl.zeros(1, 1, k, k)
    y = F.conv2d(x, w, stride=s, padding=p, dilation=d)
    assert conv_output_shape((size, size + 1), k, strides=s, padding=p, dilation_rate=d) == tuple(y.shape[2:])


@pytest.mark.parametrize("size,k,s,p,ceil", list(itertools.product([5, 8, 9], [2, 3], [1, 2, 3], [0, 1],
                                                                   [False, True])))
def test_matches_max_pool2d(size, k, s, p, ceil):
    if 2 * p > k:
        pytest.skip("padding larger than half the window")
    y = F.max_pool2d(pydl.zeros(1, 1, size, size), k, stride=s, padding=p, ceil_mode=ceil)
    assert conv_output_shape(size, k, strides=s, padding=p, ceil_mode=ceil) == y.shape[2]


@pytest.mark.parametrize("length,k,d", [(10, 3, 1), (10, 3, 2), (7, 2, 3)])
def test_causal_keeps_the_length(length, k, d):
    y = F.conv1d(pydl.zeros(1, 1, length), pydl.zeros(1, 1, k), padding="causal", dilation=d)
    assert conv_output_shape(length, k, padding="causal", dilation_rate=d) == y.shape[2] == length


def test_errors():
    with pytest.raises(ValueError, match="does not fit"):
        conv_output_shape((2, 2), 3)
    with pytest.raises(ValueError, match="strides must be positive"):
        conv_output_shape((6, 6), 3, strides=0)
    with pytest.raises(TypeError, match="kernel_size"):
        conv_output_shape((6, 6), (3, 3, 3))
    with pytest.raises(ValueError, match="causal"):
        conv_output_shape((6, 6), 3, padding="causal")
    with pytest.raises(ValueError, match="padding"):
        conv_output_shape((6, 6), 3, padding="full")
