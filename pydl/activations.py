"""Activation functions by Keras name; each is one C++ op with a fused gradient."""
from . import _C
from . import _registry
from ._registry import lookup


def linear(x):
    return x


relu = _C.relu
sigmoid = _C.sigmoid
tanh = _C.tanh
elu = _C.elu


def leaky_relu(x, negative_slope=0.2):
    """Keras's default slope is 0.2 (PyTorch's 0.01)."""
    return _C.leaky_relu(x, negative_slope)


def softmax(x, axis=-1):
    return _C.softmax(x, axis)


_ALL = {"linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "sigmoid": sigmoid,
        "tanh": tanh, "softmax": softmax}


def get(identifier, custom_objects=None):
    """An activation from a Keras name, a registered name ('my_course>swish'), a ``serialize``
    dict or a callable (returned as is). None gives ``linear``."""
    if identifier is None:
        return linear
    if callable(identifier):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier, custom_objects)
    if isinstance(identifier, str) and identifier.lower() not in _ALL:
        obj = _registry.get_registered_object(identifier, custom_objects)
        if obj is not None:
            return obj
    return lookup("activation", _ALL, identifier)


def serialize(fn):
    """A built-in activation's name; a custom one's ``{"class_name", "config", "registered_name"}``
    (a function, or an object with ``get_config``)."""
    for name, f in _ALL.items():
        if f is fn:
            return name
    try:
        return _registry.serialize(fn, _ALL)
    except ValueError:
        raise ValueError(f"activation {fn!r} cannot be saved: make it a plain function (registered with "
                         "@pydl.saving.register_serializable()) or give it get_config()") from None


def deserialize(config, custom_objects=None):
    if isinstance(config, str):
        return get(config, custom_objects)
    return _registry.deserialize("activation", _ALL, config, custom_objects)
