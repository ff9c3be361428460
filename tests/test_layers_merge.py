"""Merge layers (pydl/layers/merge.py): each against NumPy, with broadcasting, gradients checked
by central differences in float64, symbolic shapes, config round trips and the shape errors."""
import numpy as np
import pytest

import pydl
from pydl import layers as L
from pydl.layers import Add, Average, Concatenate, Input, Maximum, Minimum, Multiply, Subtract
from pydl.utils import gradcheck


def _a(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape)


NUMPY = {
    Add: lambda xs: sum(xs),
    Subtract: lambda xs: xs[0] - xs[1],
    Multiply: lambda xs: np.prod(np.stack(np.broadcast_arrays(*xs)), axis=0),
    Average: lambda xs: sum(xs) / len(xs),
    Maximum: lambda xs: np.max(np.stack(np.broadcast_arrays(*xs)), axis=0),
    Minimum: lambda xs: np.min(np.stack(np.broadcast_arrays(*xs)), axis=0),
}


SHAPES = [[(4, 3), (4, 3)], [(4, 2, 3), (4, 1, 3)], [(4, 3), (4, 3), (4, 3)]]


@pytest.mark.parametrize("cls,shapes", [(c, s) for c in NUMPY for s in SHAPES
                                        if not (c is Subtract and len(s) != 2)])  # Subtract: two inputs
def test_elementwise_merge_matches_numpy_and_its_gradient_checks(cls, shapes):
    arrays = [_a(s, i) for i, s in enumerate(shapes)]
    layer = cls()
    out = layer([pydl.tensor(a, dtype=pydl.float64) for a in arrays])
    np.testing.assert_allclose(out.numpy(), NUMPY[cls](arrays), rtol=1e-12, atol=1e-12)
    assert out.dtype == pydl.float64  # no weights: the layer keeps its inputs' dtype
    ts = [pydl.tensor(a, dtype=pydl.float64, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: cls()(list(xs)), ts)


@pytest.mark.parametrize("axis,shapes,expect", [
    (-1, [(2, 3, 4), (2, 3, 5)], (3, 9)),
    (1, [(2, 3, 4), (2, 1, 4), (2, 2, 4)], (6, 4)),
    (-2, [(2, 3, 4), (2, 2, 4)], (5, 4)),
])
def test_concatenate_matches_numpy_and_its_gradient_checks(axis, shapes, expect):
    arrays = [_a(s, i) for i, s in enumerate(shapes)]
    layer = Concatenate(axis=axis)
    out = layer([pydl.tensor(a, dtype=pydl.float64) for a in arrays])
    np.testing.assert_array_equal(out.numpy(), np.concatenate(arrays, axis=axis))
    assert layer.output_shape == (None,) + expect
    ts = [pydl.tensor(a, dtype=pydl.float64, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *xs: Concatenate(axis=axis)(list(xs)), ts)


def test_symbolic_shapes_and_broadcast():
    a, b = Input((2, 3)), Input((1, 3))
    assert Add()([a, b]).shape == (None, 2, 3)
    assert Concatenate()([a, Input((2, 5))]).shape == (None, 2, 8)
    assert Concatenate(axis=1)([a, b]).shape == (None, 3, 3)
    s = a + Input((2, 3))  # KerasTensor arithmetic is an Add layer, as in Keras 3
    assert isinstance(s.node.layer, Add) and s.shape == (None, 2, 3)
    assert isinstance((a - b).node.layer, Subtract) and isinstance((a * b).node.layer, Multiply)


def test_merge_shape_errors_name_the_layer_and_the_shapes():
    with pytest.raises(ValueError, match=r"add_bad.*\(None, 3\).*\(None, 4\)"):
        Add(name="add_bad")([Input((3,)), Input((4,))])
    with pytest.raises(ValueError, match=r"one rank.*\(None, 3\).*\(None, 1, 3\)"):
        Multiply()([Input((3,)), Input((1, 3))])
    with pytest.raises(ValueError, match=r"cat_bad.*every axis but.*\(None, 2, 3\).*\(None, 3, 4\)"):
        Concatenate(name="cat_bad")([Input((2, 3)), Input((3, 4))])
    with pytest.raises(ValueError, match="exactly 2 inputs, got 3"):
        Subtract()([Input((3,))] * 3)
    with pytest.raises(ValueError, match="at least 2 inputs, got 1"):
        Add()([Input((3,))])
    with pytest.raises(ValueError, match="list of tensors"):
        Add()(Input((3,)))
    with pytest.raises(ValueError, match="out of range"):
        Concatenate(axis=3)([Input((2,)), Input((2,))])
    with pytest.raises(ValueError, match="batch axis"):
        Concatenate(axis=0)
    with pytest.raises(TypeError, match="axis must be an int"):
        Concatenate(axis=1.0)
    # eager calls check too, and a built layer checks its next inputs
    add = Add()
    add([pydl.ones(2, 3), pydl.ones(2, 3)])
    with pytest.raises(ValueError, match=r"was built for inputs \[\(None, 3\), \(None, 3\)\]"):
        add([pydl.ones(2, 4), pydl.ones(2, 4)])


@pytest.mark.parametrize("layer", [Add(), Subtract(), Multiply(), Average(), Maximum(), Minimum(),
                                   Concatenate(axis=1)])
def test_config_round_trip(layer):
    d = L.serialize(layer)
    clone = L.deserialize(d)
    assert type(clone) is type(layer) and clone.get_config() == layer.get_config()
    if isinstance(layer, Concatenate):
        assert clone.axis == 1
