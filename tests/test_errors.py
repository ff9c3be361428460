"""Bad input gets a Python exception (ValueError / IndexError / TypeError / RuntimeError)
whose message names the op and the shapes. Nothing segfaults."""
import re

import numpy as np
import pytest

import pydl
import pydl.functional as F


def A(*shape, dtype=pydl.float32):
    return pydl.zeros(*shape, dtype=dtype)


def raises(exc, fn, *words):
    """fn() raises `exc` and its message contains each of `words` (literally)."""
    with pytest.raises(exc) as info:
        fn()
    text = str(info.value)
    for w in words:
        assert w in text, f"{w!r} not in {text!r}"
    return text


# ---------------------------------------------------------------- incompatible shapes
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "lt", "ge"])
def test_binary_shape_mismatch(name):
    raises(ValueError, lambda: getattr(pydl, name)(A(2, 3), A(4)), name, "(2, 3)", "(4,)")


@pytest.mark.parametrize("op", ["__add__", "__sub__", "__mul__", "__truediv__"])
def test_operator_shape_mismatch(op):
    raises(ValueError, lambda: getattr(A(2, 3), op)(A(3, 2)), "(2, 3)", "(3, 2)")


def test_where_shape_mismatch():
    raises(ValueError, lambda: pydl.where(A(2, 3), A(2, 3), A(4)), "where", "(2, 3)", "(4,)")


@pytest.mark.parametrize("a,b", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (4,)), ((5,), (3, 2)),
                                 ((2, 3, 4), (3, 4, 5))])
def test_matmul_shape_mismatch(a, b):
    sa = "(" + ", ".join(map(str, a)) + ("," if len(a) == 1 else "") + ")"
    sb = "(" + ", ".join(map(str, b)) + ("," if len(b) == 1 else "") + ")"
    raises(ValueError, lambda: pydl.matmul(A(*a), A(*b)), "matmul", sa, sb)


def test_matmul_scalar_operand():
    raises(ValueError, lambda: pydl.matmul(pydl.tensor(2.0), A(2, 3)), "matmul", "()", "(2, 3)")
    raises(ValueError, lambda: A(2, 3) @ 2.0, "matmul")


def test_linear_shape_mismatch():
    raises(ValueError, lambda: F.linear(A(2, 3), A(4, 5)), "linear", "(2, 3)", "(4, 5)")
    raises(ValueError, lambda: F.linear(A(2, 3), A(3, 5), A(3)), "linear", "(3,)")


def test_reshape_view_mismatch():
    raises(ValueError, lambda: A(2, 3).reshape(4, 2), "reshape", "6", "(4, 2)")
    raises(ValueError, lambda: A(2, 3).view(5), "view", "(5,)")
    raises(ValueError, lambda: A(2, 3).reshape(-1, -1), "reshape", "-1")
    raises(ValueError, lambda: A(2, 3).reshape(-1, 4), "reshape", "(-1, 4)")
    raises(RuntimeError, lambda: A(2, 3).T.view(6), "view", "(3, 2)")


def test_broadcast_to_mismatch():
    raises(ValueError, lambda: A(2, 3).broadcast_to(3, 3), "broadcast_to", "(2, 3)", "(3, 3)")
    raises(ValueError, lambda: A(2, 3).broadcast_to(3), "broadcast_to", "(2, 3)", "(3,)")


def test_concatenate_stack_mismatch():
    raises(ValueError, lambda: pydl.concatenate([A(2, 3), A(4, 5)]), "concatenate", "(2, 3)", "(4, 5)")
    raises(ValueError, lambda: pydl.concatenate([A(2, 3), A(3)]), "concatenate", "(2, 3)", "(3,)")
    raises(ValueError, lambda: pydl.concatenate([]), "concatenate")
    raises(ValueError, lambda: pydl.concatenate([pydl.tensor(1.0)]), "concatenate")
    raises(ValueError, lambda: pydl.stack([A(2, 3), A(3, 2)]), "stack", "(2, 3)", "(3, 2)")
    raises(ValueError, lambda: pydl.stack([]), "stack")


def test_squeeze_non_unit_axis():
    raises(ValueError, lambda: A(2, 3).squeeze(0), "squeeze", "(2, 3)")


def test_inplace_and_setitem_mismatch():
    t = A(2, 3)
    raises(ValueError, lambda: t.__iadd__(A(4)), "add_", "(2, 3)", "(4,)")
    raises(ValueError, lambda: t.copy_(A(4, 5)), "copy_", "(2, 3)", "(4, 5)")
    raises(ValueError, lambda: t.__setitem__(0, A(4)), "(3,)", "(4,)")
    assert np.all(t.numpy() == 0)


def test_backward_gradient_shape_mismatch():
    x = A(2, 3)
    x.requires_grad = True
    raises(ValueError, lambda: (x * 2).backward(A(3)), "backward", "(3,)", "(2, 3)")


def test_gradient_assignment_shape_mismatch():
    x = A(2, 3)
    raises(ValueError, lambda: setattr(x, "grad", A(3)), "grad", "(3,)", "(2, 3)")


# ---------------------------------------------------------------- dtypes
# Elementwise ops and matmul promote float32 with float64 (test_tensor.py); these still refuse.
@pytest.mark.parametrize("fn,name", [
    (lambda a, b: pydl.concatenate([a, b]), "concatenate"),
    (lambda a, b: pydl.stack([a, b]), "stack"), (lambda a, b: F.linear(a, b), "linear"),
])
def test_dtype_mismatch(fn, name):
    raises(TypeError, lambda: fn(A(3, 3), A(3, 3, dtype=pydl.float64)), name, "float32", "float64", "(3, 3)")


def test_bad_dtypes():
    raises(TypeError, lambda: pydl.from_numpy(np.zeros(3, dtype=np.int32)), "from_numpy", "int32")
    raises(TypeError, lambda: pydl.zeros(2, dtype="int32"), "int32")
    raises(TypeError, lambda: pydl.zeros(2, dtype="banana"), "banana")
    raises(TypeError, lambda: pydl.tensor(["a", "b"]), "tensor")
    raises(TypeError, lambda: pydl.tensor(object()), "tensor")
    raises(TypeError, lambda: A(2) + "x")
    raises(TypeError, lambda: setattr(A(2), "grad", A(2, dtype=pydl.float64)), "grad", "float64", "float32")
    raises(TypeError, lambda: A(2).sum(axis=1.5), "axis")
    raises(TypeError, lambda: A(2).reshape("x"), "reshape")
    raises(TypeError, lambda: pydl.zeros(2.5), "shape")


# ---------------------------------------------------------------- axes and indices
@pytest.mark.parametrize("fn,name", [
    (lambda t: t.sum(axis=2), "sum"), (lambda t: pydl.sum(t, axis=-3), "sum"), (lambda t: t.mean(axis=5), "mean"),
    (lambda t: t.max(axis=2), "max"), (lambda t: t.min(axis=-4), "min"), (lambda t: t.var(axis=2), "var"),
    (lambda t: F.softmax(t, axis=2), "softmax"), (lambda t: F.log_softmax(t, axis=-3), "log_softmax"),
    (lambda t: t.transpose(0, 2), "transpose"), (lambda t: t.permute(0, 2), "permute"),
    (lambda t: t.squeeze(4), "squeeze"), (lambda t: t.unsqueeze(4), "unsqueeze"), (lambda t: t.flatten(3), "flatten"),
    (lambda t: pydl.concatenate([t, t], 2), "concatenate"), (lambda t: pydl.stack([t, t], 3), "stack"),
    (lambda t: t.sum(axis=1 << 62), "sum"),
])
def test_axis_out_of_range(fn, name):
    raises(IndexError, lambda: fn(A(2, 3)), name, "axis")


def test_repeated_or_wrong_axes():
    raises(ValueError, lambda: A(2, 3).sum(axis=(0, 0)), "sum", "(2, 3)")
    raises(ValueError, lambda: A(2, 3).sum(axis=(1, -1)), "sum")
    raises(ValueError, lambda: A(2, 3).permute(0, 0), "permute")
    raises(ValueError, lambda: A(2, 3).permute(0), "permute", "(2, 3)")
    raises(ValueError, lambda: A(2, 3, 4).flatten(2, 1), "flatten")


@pytest.mark.parametrize("key,axis,size", [(2, 0, 2), (-3, 0, 2), ((0, 3), 1, 3), ((slice(None), -4), 1, 3),
                                           ((Ellipsis, 3), 1, 3), ((None, 0, 5), 1, 3), (1 << 62, 0, 2),
                                           (1 << 70, 0, 2)])
def test_index_out_of_range(key, axis, size):
    raises(IndexError, lambda: A(2, 3)[key], "index", f"axis {axis}", f"size {size}", "(2, 3)")


def test_bad_indices():
    raises(IndexError, lambda: A(2, 3)[0, 0, 0], "index", "(2, 3)")
    raises(IndexError, lambda: A(2, 3)[..., ..., 0], "ellipsis", "(2, 3)")
    raises(IndexError, lambda: A(2, 3)[..., ...], "ellipsis")
    raises(TypeError, lambda: A(2, 3)[1.5], "index", "(2, 3)")
    raises(TypeError, lambda: A(2, 3)["x"], "index")
    raises(TypeError, lambda: A(2, 3)[A(1)], "index")
    raises(ValueError, lambda: A(2, 3)[::-1], "index", "(2, 3)")
    raises(IndexError, lambda: pydl.tensor(1.0)[0], "index")
    # NumPy reads a bool as a mask, not as the integer 1: refuse instead of silently differing
    raises(TypeError, lambda: A(2, 3)[True], "index", "boolean", "(2, 3)")
    raises(TypeError, lambda: A(2, 3)[0, np.bool_(False)], "index", "boolean")


def test_empty_axis_tuple_is_refused_not_reduced_over_everything():
    # NumPy: axis=() reduces over no axis; the C++ ops read an empty list as "all axes"
    for fn in (lambda t: t.sum(axis=()), lambda t: pydl.mean(t, axis=()), lambda t: t.max(axis=[]),
               lambda t: pydl.var(t, axis=())):
        raises(ValueError, lambda: fn(A(2, 3)), "axis=()")


def test_item_and_element_errors():
    raises(ValueError, lambda: A(2, 3).item(), "item", "(2, 3)")
    raises(ValueError, lambda: bool(A(2, 3)), "(2, 3)")
    raises(TypeError, lambda: len(pydl.tensor(1.0)), "0-d")
    raises(ValueError, lambda: float(A(2)), "(2,)")


# ---------------------------------------------------------------- sizes
@pytest.mark.parametrize("fn", [
    lambda: pydl.zeros(-1), lambda: pydl.ones(2, -3), lambda: pydl.empty(-5), lambda: pydl.rand(-1, 2),
    lambda: pydl.randn(3, -1), lambda: pydl.full((-1, 2), 1.0), lambda: pydl.uniform((-1,)),
    lambda: pydl.normal((2, -2)), lambda: pydl.bernoulli((-1,), 0.5),
])
def test_negative_sizes(fn):
    raises(ValueError, fn, "negative", "-")


@pytest.mark.parametrize("fn", [
    lambda: pydl.empty(1 << 40, 1 << 40), lambda: pydl.zeros(1 << 62, 4), lambda: pydl.randn(1 << 62, 4),
    lambda: pydl.full((1 << 40, 1 << 40), 0.0), lambda: pydl.eye(1 << 40), lambda: pydl.arange(0, 1e15),
    lambda: pydl.zeros(0).reshape(1 << 62, 4), lambda: pydl.zeros(0).reshape(1 << 62, 1 << 62, 0),
    lambda: pydl.zeros(1).broadcast_to(1 << 40, 1 << 40), lambda: pydl.zeros(1 << 41, 0),
])
def test_absurd_sizes(fn):
    raises(ValueError, fn, "too")


def test_negative_sizes_in_shape_ops():
    raises(ValueError, lambda: A(1).broadcast_to(-1, 2), "broadcast_to", "-1")
    raises(ValueError, lambda: A(6).reshape(-2, -3), "reshape")
    raises(ValueError, lambda: A(6).view(-2, 3), "view")
    raises(ValueError, lambda: pydl.eye(-1), "eye")


def test_unallocatable_size_is_a_runtime_error():
    # below the sanity limit (2**40 elements) but 2 TiB: more than this machine can give
    try:
        t = pydl.empty(1 << 39)
    except RuntimeError as e:
        assert re.search(r"tensor.*out of memory.*\(549755813888,\)", str(e)), str(e)
    else:
        del t
        pytest.skip("this machine overcommits memory: the allocation succeeded")


# ---------------------------------------------------------------- autograd misuse
def test_backward_on_non_scalar_without_gradient():
    x = A(2, 3)
    x.requires_grad = True
    raises(RuntimeError, lambda: (x * 2).backward(), "backward", "scalar", "(2, 3)")


def test_backward_twice_through_freed_graph():
    x = A(2)
    x.requires_grad = True
    y = (x * x).sum()
    y.backward()
    raises(RuntimeError, lambda: y.backward(), "backward", "MulBackward", "retain_graph=True")


def test_backward_without_requires_grad():
    raises(RuntimeError, lambda: (A(2, 3) * 2).sum().backward(), "backward", "()", "requires_grad")
    raises(RuntimeError, lambda: (A(2, 3) * 2).backward(A(2, 3)), "backward", "(2, 3)")


def test_backward_gradient_count_mismatch():
    x = A(2)
    x.requires_grad = True
    raises(ValueError, lambda: pydl.backward([x * 2, x * 3], [A(2)]), "backward", "2", "1")


def test_requires_grad_false_on_non_leaf():
    x = A(2)
    x.requires_grad = True
    raises(RuntimeError, lambda: setattr(x * 2, "requires_grad", False), "leaf")


def test_inplace_on_leaf_requiring_grad():
    x = A(2, 3)
    x.requires_grad = True
    raises(RuntimeError, lambda: x.__iadd__(1.0), "add_", "(2, 3)", "no_grad")
    raises(RuntimeError, lambda: x.copy_(A(2, 3)), "copy_", "(2, 3)")
    raises(RuntimeError, lambda: x.__setitem__(0, 1.0), "copy_")


# ---------------------------------------------------------------- settings and parameters
def test_bad_settings_and_parameters():
    raises(ValueError, lambda: pydl.set_backend("gpu"), "set_backend", "gpu", "reference", "fast")
    raises(ValueError, lambda: pydl.set_num_threads(0), "set_num_threads", "0")
    raises(ValueError, lambda: pydl.uniform((2,), 1.0, 0.0), "uniform")
    raises(ValueError, lambda: pydl.normal((2,), 0.0, -1.0), "normal")
    raises(ValueError, lambda: pydl.bernoulli((2,), 1.5), "bernoulli")
    raises(ValueError, lambda: pydl.clip(A(2), 1, 0), "clip")
    raises(ValueError, lambda: pydl.arange(0, 1, 0), "arange")
    raises(ValueError, lambda: pydl.var(A(1, 3), axis=0, ddof=1), "var", "(1, 3)")
    raises(ValueError, lambda: pydl.max(A(0, 3), axis=0), "max", "(0, 3)")


def test_every_message_is_single_op_prefixed():
    """Messages start with the op's name and a colon, as the design asks."""
    msgs = []
    for fn in [lambda: A(2) + A(3), lambda: A(2, 3).sum(axis=4), lambda: A(2)[5], lambda: pydl.zeros(-1)]:
        try:
            fn()
        except (ValueError, IndexError, TypeError, RuntimeError) as e:
            msgs.append(str(e))
    assert len(msgs) == 4
    for m in msgs:
        assert re.match(r"^[a-z_]+: ", m), m


# ---------------------------------------------------------------- wrong argument types name the op
def test_arange_full_and_grad_assignment_name_the_op():
    raises(ValueError, lambda: pydl.arange(float("nan")), "arange", "finite", "nan")
    raises(ValueError, lambda: pydl.arange(0, float("inf")), "arange", "finite")
    raises(ValueError, lambda: pydl.arange(0, 1, float("nan")), "arange", "finite")
    raises(TypeError, lambda: pydl.arange("5"), "arange", "start", "str")
    raises(TypeError, lambda: pydl.arange(0, [3]), "arange", "stop")
    raises(TypeError, lambda: pydl.full("ab", 1), "full", "shape", "'ab'")
    raises(TypeError, lambda: pydl.full((2, "x"), 1), "full", "shape")
    raises(TypeError, lambda: pydl.uniform("ab"), "uniform", "shape")
    raises(TypeError, lambda: pydl.clip(A(2), "a", None), "clip", "min")
    raises(TypeError, lambda: pydl.eye(2, "x"), "eye")
    raises(TypeError, lambda: F.linear(A(2, 3), A(3, 4), [0.0] * 4), "linear", "bias")
    t = A(2, 3)
    raises(ValueError, lambda: setattr(t, "grad", np.zeros(2)), "grad", "(2,)", "(2, 3)")
    raises(TypeError, lambda: setattr(t, "grad", np.zeros((2, 3))), "grad", "float64", "float32")
    raises(TypeError, lambda: setattr(t, "grad", [[0.0] * 3] * 2), "grad", "list")


def test_grad_accepts_an_array_of_the_right_shape_and_dtype():
    t = A(2, 3)
    g = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    t.grad = g
    assert isinstance(t.grad, pydl.Tensor)
    np.testing.assert_array_equal(t.grad.numpy(), g)
    t.grad = None
    assert t.grad is None


BAD_VALUES = ["ab", None, [1, "x"], object()]


def _public_callables():
    import pydl._C as C
    names = [("pydl." + n, getattr(pydl, n)) for n in dir(pydl)
             if not n.startswith("_") and n in dir(C) and callable(getattr(pydl, n))
             and not isinstance(getattr(pydl, n), type)]
    names += [("F." + n, getattr(F, n)) for n in F.__all__]
    t = A(2, 3)
    names += [("Tensor." + n, getattr(t, n)) for n in dir(pydl.Tensor)
              if not n.startswith("_") and callable(getattr(t, n, None))]
    return names


@pytest.mark.parametrize("name,fn", _public_callables(), ids=lambda v: v if isinstance(v, str) else "")
def test_no_wrong_type_call_dumps_a_binding_signature(name, fn):
    """Call each public function with a str/None/list/object in each of its first positions (and an
    unknown keyword): whatever it raises must start with the op's name, never pybind11's
    'incompatible function arguments ... Invoked with' dump."""
    op = name.split(".")[-1]
    calls = [((), {"no_such_keyword": 1})]
    for bad in BAD_VALUES:
        for n in range(1, 4):
            for pos in range(n):
                args = [A(2, 3)] * n
                args[pos] = bad
                calls.append((tuple(args), {}))
    for args, kwargs in calls:
        try:
            fn(*args, **kwargs)
        except Exception as e:  # noqa: BLE001  (any exception type may be right; its text is checked)
            text = str(e)
            assert "incompatible function arguments" not in text and "Invoked with" not in text, (name, args, text)
            assert "Unable to cast" not in text, (name, args, text)
            if isinstance(e, TypeError) and "incompatible" not in text:
                assert text.startswith(op) or re.match(r"^[a-z_.]+: ", text), (name, args, text)


def test_pytorch_keywords_are_aliases():
    x = np.arange(6.0).reshape(2, 3)
    t = pydl.tensor(x, dtype=pydl.float64)
    np.testing.assert_array_equal(t.sum(dim=1).numpy(), x.sum(axis=1))
    np.testing.assert_array_equal(t.sum(dim=1, keepdim=True).numpy(), x.sum(axis=1, keepdims=True))
    np.testing.assert_array_equal(pydl.mean(t, dim=0).numpy(), x.mean(axis=0))
    np.testing.assert_array_equal(t.max(dim=-1, keepdim=True).numpy(), x.max(axis=-1, keepdims=True))
    np.testing.assert_array_equal(pydl.min(t, dim=1).numpy(), x.min(axis=1))
    np.testing.assert_allclose(t.var(dim=0).numpy(), x.var(axis=0))
    e = np.exp(x - x.max(axis=0))
    np.testing.assert_allclose(F.softmax(t, dim=0).numpy(), e / e.sum(axis=0))
    np.testing.assert_allclose(t.log_softmax(dim=0).numpy(), np.log(e / e.sum(axis=0)))
    assert t.unsqueeze(dim=0).shape == (1, 2, 3) and t.unsqueeze(dim=0).squeeze(dim=0).shape == (2, 3)
    assert t.flatten(start_dim=0).shape == (6,) and t.transpose(dim0=0, dim1=1).shape == (3, 2)
    assert pydl.concatenate([t, t], dim=1).shape == (2, 6) and pydl.stack([t, t], dim=0).shape == (2, 2, 3)
    raises(TypeError, lambda: t.sum(axis=0, dim=1), "sum", "axis=", "dim=")
    raises(TypeError, lambda: t.sum(dims=1), "sum", "'dims'", "axis")
    raises(TypeError, lambda: F.softmax(t, keepdims=True), "softmax", "'keepdims'")


def test_requires_grad_setter_takes_a_bool():
    t = A(2)
    raises(TypeError, lambda: setattr(t, "requires_grad", "yes"), "requires_grad", "str")
    raises(TypeError, lambda: setattr(t, "requires_grad", None), "requires_grad", "None")
    t.requires_grad = True
    assert t.requires_grad
    t.requires_grad = np.bool_(False)
    assert not t.requires_grad


def test_the_argument_checking_wrappers_pickle_as_the_functions_they_wrap():
    import pickle
    for f in (pydl.sum, F.relu, pydl.Tensor.sum, pydl.tensor):
        assert pickle.loads(pickle.dumps(f)) is f
