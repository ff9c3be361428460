"""Weight penalties added to the loss: L1 = l1 * sum|w|, L2 = l2 * sum w^2 (Keras's form, no 1/2).

A layer's kernel_regularizer(w) returns a scalar tensor; the model adds it to the loss, so
autograd adds its gradient (l1 * sign(w), 2 * l2 * w) to the weight's.
"""
from . import _C
from ._registry import Configurable, lookup
from ._registry import get_registered_object as _registered
from ._registry import deserialize as _deserialize, serialize as _serialize


class Regularizer(Configurable):
    def __call__(self, w):
        raise NotImplementedError


class L1L2(Regularizer):
    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        penalty = None
        if self.l1:
            penalty = _C.abs(w).sum() * self.l1
        if self.l2:
            term = _C.square(w).sum() * self.l2
            penalty = term if penalty is None else penalty + term
        return penalty if penalty is not None else _C.zeros(dtype=w.dtype)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1(l1=0.01):
    return L1(l1)


def l2(l2=0.01):
    return L2(l2)


def l1_l2(l1=0.01, l2=0.01):
    return L1L2(l1, l2)


_ALL = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, str) and identifier.lower() not in _ALL:
        obj = _registered(identifier)
        if obj is not None:  # a registered custom regularizer: a class gives an instance
            return obj() if isinstance(obj, type) else obj
    return lookup("regularizer", _ALL, identifier)()


def serialize(obj):
    """{"class_name": ..., "config": obj.get_config()}; a custom regularizer (a class or a function)
    also carries the registered name that finds it again."""
    return _serialize(obj, _CLASSES)


def deserialize(d, custom_objects=None):
    return _deserialize("regularizer", _CLASSES, d, custom_objects)
