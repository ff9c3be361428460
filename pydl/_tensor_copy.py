"""``copy.deepcopy``, ``copy.copy`` and pickling of Tensors, with PyTorch's meanings.

* ``copy.deepcopy(t)``: new memory holding the same values, the same dtype and
  ``requires_grad``, a deep copy of ``.grad`` and of the Python attributes (a weight's
  ``name``). Only a leaf can be deep-copied (one made by you, not computed by a recorded op):
  the copy of a computed tensor could not be part of its graph, so it raises as PyTorch does.
  A view is copied into its own contiguous memory (two views of one buffer, deep-copied
  together, no longer share memory; PyTorch keeps them sharing).
* ``copy.copy(t)``: a new tensor object sharing ``t``'s memory (a write through one shows in
  the other), with the same ``requires_grad``, no ``.grad`` and cut from the graph, as
  PyTorch's shallow copy.
* ``pickle``: the values (a NumPy array), dtype, ``requires_grad`` and Python attributes, so
  tensors (and objects holding them) can travel to worker processes. ``.grad`` and the graph
  are not pickled (nor are they by PyTorch). Unpickling runs code named by the pickle stream:
  load only pickles you made. pydl's model files never use pickle (see ``pydl.saving``).
"""
import copy

from ._C import Tensor, tensor, float32

_NOT_LEAF = ("Only Tensors created explicitly by the user (graph leaves) support the deepcopy protocol: this "
             "one was computed by {op}. Deep-copy the leaves it came from, or copy its values with "
             "t.detach().clone()")


def _deepcopy(t, memo):
    if id(t) in memo:
        return memo[id(t)]
    if not t.is_leaf:
        raise RuntimeError(_NOT_LEAF.format(op=t.grad_fn.name()))
    new = t.detach().clone()
    if t.requires_grad:
        new.requires_grad_(True)
    memo[id(t)] = new
    if t.grad is not None:
        new.grad = copy.deepcopy(t.grad, memo)
    new.__dict__.update(copy.deepcopy(t.__dict__, memo))
    return new


def _copy(t):
    new = t.detach()
    if t.requires_grad:
        new.requires_grad_(True)
    new.__dict__.update(t.__dict__)
    return new


def _rebuild(values, requires_grad, attributes):
    # the array's dtype is the tensor's: float32, float64 or int64 (issue 9)
    t = tensor(values, dtype=values.dtype if values.dtype in ("float64", "int64") else float32)
    if requires_grad:
        t.requires_grad_(True)
    t.__dict__.update(attributes)
    return t


def _reduce_ex(t, protocol):
    return _rebuild, (t.detach().numpy().copy(), bool(t.requires_grad), dict(t.__dict__))


Tensor.__deepcopy__ = _deepcopy
Tensor.__copy__ = _copy
Tensor.__reduce_ex__ = _reduce_ex
