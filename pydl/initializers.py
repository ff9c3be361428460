"""Weight initializers (Keras names and defaults). Each is an object called with a shape that
returns a NumPy array; layers turn it into a parameter tensor.

Names follow Keras 3, which still accepts Keras 1's ``'uniform'`` (RandomUniform(-0.05, 0.05)),
``'normal'`` (RandomNormal(0, 0.05)), ``'zero'``, ``'one'`` and ``'identity'`` (so the slides'
``Dense(64, init='uniform')`` runs unchanged), and the class names (``'GlorotUniform'``). The
other Keras 1 names (glorot_*, he_*, lecun_uniform, orthogonal) are today's initializers with
the same variance; Keras 1 drew glorot_normal and he_normal untruncated (Keras 2 and 3 truncate
at two standard deviations, rescaled) and gave orthogonal a gain of 1.1 (today 1.0).

Randomness comes from pydl's generator (so ``pydl.manual_seed`` repeats every run), or from
the initializer's own ``seed`` when one is given (then the same seed gives the same values).
"""
import math

import numpy as np

from . import _C
from ._registry import Configurable, lookup
from ._registry import get_registered_object as _registered
from ._registry import deserialize as _deserialize, serialize as _serialize


def _rng(seed):
    if seed is not None:
        return np.random.default_rng(seed)
    # Draw a NumPy seed from pydl's counter-based generator: repeatable after manual_seed.
    bits = _C.uniform([2], 0.0, 2.0 ** 31, dtype=_C.float64).numpy()
    return np.random.default_rng([int(bits[0]), int(bits[1])])


def _fans(shape):
    """fan_in, fan_out of a weight: Dense (in, out); a conv kernel in pydl's (PyTorch's) layout
    (out, in / groups, *kernel) has fan_in = in / groups * prod(kernel) and
    fan_out = out * prod(kernel) (the same numbers Keras gets from its (*kernel, in, out))."""
    if len(shape) < 1:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


class Initializer(Configurable):
    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=dtype)


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype=dtype)


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = float(value)

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=dtype)

    def get_config(self):
        return {"value": self.value}


class RandomNormal(Initializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype="float32"):
        return _rng(self.seed).normal(self.mean, self.stddev, size=shape).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomUniform(Initializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = float(minval), float(maxval), seed

    def __call__(self, shape, dtype="float32"):
        return _rng(self.seed).uniform(self.minval, self.maxval, size=shape).astype(dtype)

    def get_config(self):
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class TruncatedNormal(Initializer):
    """Normal values more than two standard deviations from the mean are drawn again."""

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = float(mean), float(stddev), seed

    def __call__(self, shape, dtype="float32"):
        return (self.mean + self.stddev * _truncated(_rng(self.seed), shape)).astype(dtype)

    def get_config(self):
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


def _truncated(rng, shape):
    z = rng.standard_normal(size=shape)
    bad = np.abs(z) > 2
    while bad.any():
        z[bad] = rng.standard_normal(size=int(bad.sum()))
        bad = np.abs(z) > 2
    return z


class VarianceScaling(Initializer):
    """Variance scale / n with n = fan_in, fan_out or their mean. The Glorot, He and LeCun
    initializers are this one with fixed arguments (one implementation, thin names)."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling: mode must be fan_in, fan_out or fan_avg, got {mode!r}")
        if distribution not in ("truncated_normal", "untruncated_normal", "uniform"):
            raise ValueError("VarianceScaling: distribution must be truncated_normal, untruncated_normal "
                             f"or uniform, got {distribution!r}")
        self.scale, self.mode, self.distribution, self.seed = float(scale), mode, distribution, seed

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = _fans(tuple(shape))
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        var = self.scale / max(1.0, n)
        rng = _rng(self.seed)
        if self.distribution == "uniform":
            limit = math.sqrt(3 * var)  # U(-l, l) has variance l^2 / 3
            return rng.uniform(-limit, limit, size=shape).astype(dtype)
        if self.distribution == "untruncated_normal":
            return (math.sqrt(var) * rng.standard_normal(size=shape)).astype(dtype)
        # a normal truncated at 2 std has std 0.8796 of the untruncated one: compensate
        std = math.sqrt(var) / 0.87962566103423978
        return (std * _truncated(rng, shape)).astype(dtype)

    def get_config(self):
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution, "seed": self.seed}


def _named(cls_name, scale, mode, distribution):
    def __init__(self, seed=None):
        VarianceScaling.__init__(self, scale, mode, distribution, seed)

    def get_config(self):
        return {"seed": self.seed}

    return type(cls_name, (VarianceScaling,), {"__init__": __init__, "get_config": get_config,
                                                "__doc__": f"VarianceScaling({scale}, {mode}, {distribution})"})


GlorotUniform = _named("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _named("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _named("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _named("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _named("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _named("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """A (semi-)orthogonal matrix times gain: the default for recurrent kernels."""

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = float(gain), seed

    def __call__(self, shape, dtype="float32"):
        rows = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
        cols = shape[-1]
        a = _rng(self.seed).standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q[:rows, :cols]).reshape(shape).astype(dtype)

    def get_config(self):
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """gain times the identity matrix (``np.eye(rows, cols)`` for a rectangular one); 2D shapes only."""

    def __init__(self, gain=1.0):
        self.gain = float(gain)

    def __call__(self, shape, dtype="float32"):
        if len(shape) != 2:
            raise ValueError(f"Identity: the identity initializer needs a 2D shape, got {tuple(shape)}")
        return (self.gain * np.eye(shape[0], shape[1])).astype(dtype)

    def get_config(self):
        return {"gain": self.gain}


_ALL = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform, "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform, "he_normal": HeNormal, "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal, "orthogonal": Orthogonal, "identity": Identity,
    # Keras 1's names, which Keras 3 keeps as aliases (RandomUniform and RandomNormal's defaults
    # are Keras 1's uniform(-0.05, 0.05) and normal(0, 0.05))
    "uniform": RandomUniform, "normal": RandomNormal, "zero": Zeros, "one": Ones,
}
_CLASSES = {cls.__name__: cls for cls in _ALL.values()}


def get(identifier):
    """An initializer from a name ('glorot_uniform'), a config dict, an instance or a callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, Initializer) or callable(identifier) and not isinstance(identifier, type):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str) and identifier in _CLASSES:  # 'GlorotUniform', as Keras accepts
        return _CLASSES[identifier]()
    if isinstance(identifier, str) and identifier.lower() not in _ALL:
        obj = _registered(identifier)
        if obj is not None:  # a registered custom initializer: a class gives an instance
            return obj() if isinstance(obj, type) else obj
    return lookup("initializer", _ALL, identifier)()


def serialize(obj):
    """{"class_name": ..., "config": obj.get_config()}; a custom initializer (a class or a function)
    also carries the registered name that finds it again."""
    return _serialize(obj, _CLASSES)


def deserialize(d, custom_objects=None):
    return _deserialize("initializer", _CLASSES, d, custom_objects)
