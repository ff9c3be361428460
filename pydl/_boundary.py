"""The Python side of the C++ boundary: argument errors that name the op, PyTorch keyword
aliases, and the NumPy protocols (``np.asarray(t)``, ``ndarray + t``, ``np.exp(t)``).

pybind11 answers a call with the wrong argument types by dumping every overload's C++
signature ("incompatible function arguments ... Invoked with"). ``install()`` wraps each
public function of ``pydl._C`` and each method of ``Tensor`` so that such a call raises a
TypeError that starts with the op's name, says what came and what the op takes. The wrapper
also maps PyTorch's keywords (``dim=``, ``keepdim=``, ``start_dim=`` ...) to pydl's (``axis=``,
``keepdims=``, ``start_axis=`` ...) where the op has the pydl keyword.
"""
import functools
import re

import numpy as np

from . import _C

Tensor = _C.Tensor

# PyTorch's keyword -> pydl's (NumPy/Keras) keyword. Applied only where the op has the latter.
ALIASES = {"dim": "axis", "keepdim": "keepdims", "start_dim": "start_axis", "end_dim": "end_axis",
           "dim0": "axis0", "dim1": "axis1"}
# np.sum(t), np.mean(t), ... call t.sum(axis=..., out=None, dtype=None): the defaults are harmless.
_NUMPY_REDUCTIONS = {"sum", "mean", "max", "min", "var"}


def _split_params(text):
    """'x: Tensor, axis: tuple[int, int] = None' -> ['x: Tensor', 'axis: tuple[int, int] = None']."""
    out, depth, cur = [], 0, ""
    for ch in text:
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        if ch == "," and depth == 0:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def _signatures(fn, name):
    """The accepted signatures of a pybind11 function, from its docstring, without `self`."""
    sigs = []
    for line in (fn.__doc__ or "").splitlines():
        m = re.match(r"^\s*(?:\d+\. )?" + re.escape(name) + r"\((.*)\)(?: -> .*)?$", line)
        if not m or m.group(1) == "*args, **kwargs":
            continue
        params = [p.replace("pydl._C.", "") for p in _split_params(m.group(1))]
        sigs.append([p for p in params if not p.startswith("self")])
    return sigs


def _param_name(p):
    return re.split(r"[:=]", p, maxsplit=1)[0].strip()


def _type_name(v):
    return "Tensor" if isinstance(v, Tensor) else type(v).__name__


def _describe(name, sigs, args, kwargs):
    got = ", ".join([_type_name(a) for a in args] + [f"{k}={_type_name(v)}" for k, v in kwargs.items()])
    known = {_param_name(p) for s in sigs for p in s} - {"*", "/"}
    unknown = [k for k in kwargs if k not in known]
    takes = "; ".join(f"{name}({', '.join(s)})" for s in sigs) or f"{name}(...)"
    if unknown:
        return (f"{name}: unexpected keyword argument{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(k) for k in unknown)}; it takes {takes}")
    return f"{name}: wrong argument types: got ({got}); it takes {takes}"


def _is_binding_type_error(e):
    text = str(e)
    return "incompatible function arguments" in text or "Unable to cast Python instance" in text


def _wrap(fn, name, method):
    sigs = _signatures(fn, name)
    known = {_param_name(p) for s in sigs for p in s}
    aliases = {k: v for k, v in ALIASES.items() if v in known and k not in known}
    drop_numpy_defaults = method and name in _NUMPY_REDUCTIONS

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        if kwargs:
            if aliases:
                for alias, real in aliases.items():
                    if alias in kwargs:
                        if real in kwargs:
                            raise TypeError(f"{name}: got both {real}= and its PyTorch spelling {alias}=")
                        kwargs[real] = kwargs.pop(alias)
            if drop_numpy_defaults:
                for k in ("out", "dtype"):
                    if k in kwargs and kwargs[k] is None:
                        del kwargs[k]
        try:
            return fn(*args, **kwargs)
        except (TypeError, RuntimeError) as e:
            if not _is_binding_type_error(e):
                raise
            shown = args[1:] if method else args
            raise TypeError(_describe(name, sigs, shown, kwargs)) from None

    # pickle (and copy) find functions by module and qualified name: point them at the wrapper
    wrapper.__module__ = "pydl._C"
    wrapper.__qualname__ = f"Tensor.{name}" if method else name
    wrapper.__wrapped_binding__ = fn
    return wrapper


def _is_binding(f):
    return type(f).__name__ == "builtin_function_or_method"


# ---------------------------------------------------------------- NumPy protocols
def _array(self, dtype=None, copy=None):
    """np.asarray(t): the tensor's memory (t.numpy()'s rules: refused if t requires grad)."""
    a = self.numpy()
    if dtype is not None and np.dtype(dtype) != a.dtype:
        if copy is False:
            raise ValueError(f"__array__: a {a.dtype} tensor cannot become a {np.dtype(dtype)} array without a copy")
        return a.astype(dtype)
    return a.copy() if copy else a


def _ufunc_table():
    C = _C
    return {
        "add": C.add, "subtract": C.sub, "multiply": C.mul, "divide": C.div, "true_divide": C.div,
        "power": C.pow, "maximum": C.maximum, "minimum": C.minimum, "matmul": C.matmul,
        "equal": C.eq, "not_equal": C.ne, "less": C.lt, "less_equal": C.le, "greater": C.gt,
        "greater_equal": C.ge,
        "negative": C.neg, "positive": lambda x: x, "exp": C.exp, "log": C.log, "sqrt": C.sqrt,
        "absolute": C.abs, "square": C.square, "tanh": C.tanh,
    }


_UFUNCS = None


def _array_ufunc(self, ufunc, method, *inputs, **kwargs):
    """ndarray + t, np.exp(t), np.maximum(a, t), ...: the pydl op, so the graph is kept."""
    global _UFUNCS
    if _UFUNCS is None:
        _UFUNCS = _ufunc_table()
    name = ufunc.__name__
    hint = "use the pydl op, or np.%s(t.detach().numpy()) to compute outside the graph" % name
    if method != "__call__":
        raise TypeError(f"np.{name}.{method}: not supported on pydl tensors; {hint} "
                        "(reductions: t.sum(axis), t.max(axis), ...)")
    op = _UFUNCS.get(name)
    if op is None:
        raise TypeError(f"np.{name}: not supported on pydl tensors; supported: {', '.join(sorted(_UFUNCS))}; {hint}")
    out = kwargs.pop("out", None)
    if kwargs:
        raise TypeError(f"np.{name}: the keyword{'s' if len(kwargs) > 1 else ''} {', '.join(kwargs)} "
                        f"{'are' if len(kwargs) > 1 else 'is'} not supported with pydl tensors; {hint}")
    if out is not None:
        # arr += t: write into the NumPy array, allowed only where no gradient is lost
        if len(out) != 1 or not isinstance(out[0], np.ndarray):
            raise TypeError(f"np.{name}: out= must be a NumPy array when pydl tensors are involved; "
                            "for a tensor use the in-place methods (t.add_(x), t += x)")
        if _C.is_grad_enabled() and any(isinstance(x, Tensor) and x.requires_grad for x in inputs):
            raise TypeError(f"np.{name}(..., out=array): writing into a NumPy array would cut the graph of a "
                            "tensor that requires grad; compute y = np.%s(...) (a pydl tensor) instead, or "
                            "use t.detach().numpy()" % name)
        result = op(*inputs)
        out[0][...] = result.numpy()
        return out[0]
    return op(*inputs)


def install():
    """Wrap _C's functions and Tensor's methods; give Tensor the NumPy protocols. Idempotent."""
    for name in dir(_C):
        f = getattr(_C, name)
        if not name.startswith("_") and _is_binding(f):
            setattr(_C, name, _wrap(f, name, method=False))
    for name, f in list(vars(Tensor).items()):
        if not name.startswith("_") and type(f).__name__ == "instancemethod":
            setattr(Tensor, name, _wrap(f.__func__, name, method=True))
    Tensor.__array__ = _array
    Tensor.__array_ufunc__ = _array_ufunc
