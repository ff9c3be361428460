"""Keras-style layers. Each layer's maths is one or two C++ ops; read ``call`` to see which."""
from .base import Layer  # noqa: F401
from .core import Input, Dense, Activation, Dropout, Flatten, Reshape  # noqa: F401

_CLASSES = {c.__name__: c for c in (Input, Dense, Activation, Dropout, Flatten, Reshape)}


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(d):
    """Rebuild a built-in layer from its config (no code is ever run from a file)."""
    cls = _CLASSES.get(d.get("class_name"))
    if cls is None:
        raise ValueError(f"Unknown layer class {d.get('class_name')!r}; known: {', '.join(sorted(_CLASSES))}")
    return cls.from_config(d.get("config", {}))
