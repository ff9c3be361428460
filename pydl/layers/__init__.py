"""Keras-style layers. Each layer's maths is one or two C++ ops; read ``call`` to see which."""
from .. import _registry
from .base import Layer  # noqa: F401
from .core import Input, InputLayer, Dense, Activation, Dropout, Flatten, Reshape  # noqa: F401
from .conv import (Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, Conv1D,  # noqa: F401
                   Convolution2D)
from .pooling import (MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D,  # noqa: F401
                      GlobalAveragePooling2D, MaxPooling1D)
from .reshaping import UpSampling2D, ZeroPadding2D, Cropping2D  # noqa: F401
from .normalization import BatchNormalization, LayerNormalization, GroupNormalization  # noqa: F401
# augmentation layers, active in training only
from .preprocessing import (RandomRotation, RandomTranslation, RandomZoom, RandomFlip,  # noqa: F401
                            RandomBrightness, RandomContrast, GaussianNoise, GaussianDropout)

# The built-in layers a saved model may name (Convolution2D is not one: it returns a Conv2D).
_CLASSES = {c.__name__: c for c in (
    InputLayer, Dense, Activation, Dropout, Flatten, Reshape,
    Conv2D, Conv2DTranspose, DepthwiseConv2D, SeparableConv2D, Conv1D,
    MaxPooling2D, AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D, MaxPooling1D,
    UpSampling2D, ZeroPadding2D, Cropping2D,
    BatchNormalization, LayerNormalization, GroupNormalization,
    RandomRotation, RandomTranslation, RandomZoom, RandomFlip, RandomBrightness, RandomContrast,
    GaussianNoise, GaussianDropout,
)}
# functional API (merge layers; 'Input' is the name files saved before InputLayer existed used)
from .base import KerasTensor  # noqa: F401,E402
from .merge import Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate  # noqa: F401,E402
_CLASSES.update({c.__name__: c for c in (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate)})
_CLASSES["Input"] = InputLayer
# recurrent layers (issue 9)
from .recurrent import SimpleRNN, LSTM, GRU  # noqa: F401,E402
_CLASSES.update({c.__name__: c for c in (SimpleRNN, LSTM, GRU)})
from .rnn_wrappers import RepeatVector, TimeDistributed, Bidirectional  # noqa: F401,E402
_CLASSES.update({c.__name__: c for c in (RepeatVector, TimeDistributed, Bidirectional)})
from .embedding import Embedding  # noqa: F401,E402
_CLASSES["Embedding"] = Embedding
# latent-variable models (issue 10)
from .latent import Sampling  # noqa: F401,E402
_CLASSES["Sampling"] = Sampling
from .advanced_activations import LeakyReLU  # noqa: F401,E402
_CLASSES["LeakyReLU"] = LeakyReLU
from .preprocessing import MaskingNoise  # noqa: F401,E402  (the denoising autoencoder's corruption)
_CLASSES["MaskingNoise"] = MaskingNoise
# masking (issue 9): the Masking layer and the 1-D global poolings (GlobalAveragePooling1D honours masks)
from .core import Masking  # noqa: F401,E402
from .pooling import GlobalAveragePooling1D, GlobalMaxPooling1D  # noqa: F401,E402
from .base import get_mask, set_mask  # noqa: F401,E402
_CLASSES.update({c.__name__: c for c in (Masking, GlobalAveragePooling1D, GlobalMaxPooling1D)})


def _classes():
    """The built-in layers and the model classes (a model is a layer of another model)."""
    from ..saving import _model_classes
    return {**_CLASSES, **_model_classes()}


def serialize(layer):
    """``{"class_name", "config"}``; a custom layer also carries its registered name."""
    return _registry.serialize(layer, _classes())


def deserialize(d, custom_objects=None):
    """Rebuild a layer from its config: a built-in one, or a custom one found in
    ``custom_objects`` or the registry (no code is ever run from a file)."""
    with _registry.custom_object_scope(_registry.check_custom_objects("layers.deserialize", custom_objects)):
        return _registry.deserialize("layer", _classes(), d)
