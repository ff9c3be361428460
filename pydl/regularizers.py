"""Weight penalties added to the loss: L1 = l1 * sum|w|, L2 = l2 * sum w^2 (Keras's form, no 1/2).

A layer's kernel_regularizer(w) returns a scalar tensor; the model adds it to the loss, so
autograd adds its gradient (l1 * sign(w), 2 * l2 * w) to the weight's.
"""
import math as _math

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


class KLSparsity(Regularizer):
    """The sparse autoencoder's penalty (Ng's notes), an ``activity_regularizer`` for a sigmoid
    layer: with ρ̂_j the mean activation of unit j over the batch,
    ``beta * Σ_j KL(rho || ρ̂_j)`` = ``beta * Σ_j [rho log(rho/ρ̂_j) + (1-rho) log((1-rho)/(1-ρ̂_j))]``,
    which pushes every unit to be active for about a fraction ``rho`` of the inputs. The
    activations must lie in (0, 1) (a sigmoid); ρ̂ is clipped to [1e-7, 1 - 1e-7]."""

    def __init__(self, rho=0.05, beta=1.0):
        if not 0.0 < float(rho) < 1.0:
            raise ValueError(f"KLSparsity: rho (the target mean activation) must be in (0, 1), got {rho!r}")
        if not float(beta) >= 0.0:
            raise ValueError(f"KLSparsity: beta must be >= 0, got {beta!r}")
        self.rho, self.beta = float(rho), float(beta)

    def __call__(self, a):
        if a.dim() < 2:
            raise ValueError(f"KLSparsity: expects a batch of activations (batch, units), got shape {tuple(a.shape)}")
        rho_hat = a.reshape(a.shape[0], -1).mean(axis=0).clip(1e-7, 1.0 - 1e-7)
        kl = (rho_hat.log() * -self.rho + (rho_hat * -1.0 + 1.0).log() * -(1.0 - self.rho)).sum()
        # the constant part of the KL, rho log rho + (1-rho) log(1-rho), makes it 0 at rho_hat = rho
        const = (self.rho * _math.log(self.rho) + (1 - self.rho) * _math.log(1 - self.rho)) * rho_hat.shape[0]
        return (kl + const) * self.beta

    def get_config(self):
        return {"rho": self.rho, "beta": self.beta}


def kl_sparsity(rho=0.05, beta=1.0):
    return KLSparsity(rho, beta)


_ALL = {"l1": L1, "l2": L2, "l1_l2": L1L2, "l1l2": L1L2}
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "KLSparsity": KLSparsity}


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
