"""Keras-style layers. Each layer's maths is one or two C++ ops; read ``call`` to see which."""
from .. import _registry
from .base import Layer  # noqa: F401
from .core import Input, Dense, Activation, Dropout, Flatten, Reshape  # noqa: F401
from .conv import Conv2D  # noqa: F401
from .pooling import (MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D,  # noqa: F401
                      GlobalAveragePooling2D)
# issue 8, convx: the remaining convolution-family layers
from .conv import Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, Conv1D, Convolution2D  # noqa: F401
from .pooling import MaxPooling1D  # noqa: F401
from .reshaping import UpSampling2D, ZeroPadding2D, Cropping2D  # noqa: F401

_CLASSES = {c.__name__: c for c in (Input, Dense, Activation, Dropout, Flatten, Reshape, Conv2D, MaxPooling2D,
                                    AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D)}
_CLASSES.update({c.__name__: c for c in (Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, Conv1D,  # convx
                                         MaxPooling1D, UpSampling2D, ZeroPadding2D, Cropping2D)})


def serialize(layer):
    """``{"class_name", "config"}``; a custom layer also carries its registered name."""
    return _registry.serialize(layer, _CLASSES)


def deserialize(d, custom_objects=None):
    """Rebuild a layer from its config: a built-in one, or a custom one found in
    ``custom_objects`` or the registry (no code is ever run from a file)."""
    with _registry.custom_object_scope(_registry.check_custom_objects("layers.deserialize", custom_objects)):
        return _registry.deserialize("layer", _CLASSES, d)
