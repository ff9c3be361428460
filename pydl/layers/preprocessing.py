"""Augmentation layers that act only in training (Keras 3's names and arguments), and are the
identity otherwise: RandomRotation, RandomTranslation, RandomZoom, RandomFlip, RandomBrightness,
RandomContrast (input-side image layers), GaussianNoise and GaussianDropout (anywhere).

Each draws its random parameters from its own NumPy Generator (from ``seed``, or, for
``seed=None``, seeded from pydl's generator when the layer is made, so ``pydl.manual_seed``
repeats a run) and runs the kernels of ``pydl.data.augment``. ``layer.transform(x, rng)`` is
the same augmentation on a NumPy batch with a given generator, which is what
``pydl.data.augment.Augment`` calls in a batch pipeline.

The layers augment when called with ``training=True`` (as ``fit`` does); ``training=None`` or
False (``predict``, ``evaluate``, a plain call) returns the input unchanged. (Keras 3's image
layers also augment on a plain call; pydl's layers follow pydl's Dropout.) Images are NCHW:
data_format='channels_first' only, as the convolution layers.

The image layers have no gradient with respect to their input: they belong at the input side
of a model, and raise if the input requires a gradient. GaussianNoise (x + noise) and
GaussianDropout (x * noise) pass the gradient through, so they can sit mid-network.
"""
import math
import numbers

import numpy as np

from .. import _C
from ..data import augment as _aug
from .base import Layer
from .conv import _data_format_arg, _image_shape, channels_last_aware


def _seed_arg(owner, seed):
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0):
        raise ValueError(f"{owner}: seed must be None or a non-negative int, got {seed!r}")
    return None if seed is None else int(seed)


def _factor_config(factor):
    return list(factor) if isinstance(factor, (tuple, list)) else factor


class _RandomLayer(Layer):
    """The shared part: a seeded generator, identity outside training, config with the seed."""

    _image = True  # an input-side image layer: NCHW samples, no gradient to the input

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = _seed_arg(type(self).__name__, seed)
        self._rng = _aug.generator(self.seed)

    def transform(self, x, rng):
        """The augmentation of a NumPy batch x, parameters drawn from the Generator ``rng``."""
        raise NotImplementedError

    def call(self, x, training=None):
        if not training:
            return x
        if self._image and x.requires_grad:
            raise ValueError(f"{self.name}: {type(self).__name__} has no gradient with respect to its input, "
                             "so it must come before any layer with weights (put it first in the model)")
        return _C.tensor(self.transform(x.detach().numpy(), self._rng), dtype=x.dtype)

    def compute_output_shape(self, input_shape):
        if self._image:
            _image_shape(type(self).__name__, self.name, input_shape)
        return input_shape

    def get_config(self):
        cfg = super().get_config()
        cfg["seed"] = self.seed
        return cfg


@channels_last_aware(3)
class _GeometricLayer(_RandomLayer):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format="channels_first", **kwargs):
        super().__init__(seed=seed, **kwargs)
        owner = type(self).__name__
        self.fill_mode = _aug.fill_mode_arg(owner, fill_mode)
        self.interpolation = _aug.interpolation_arg(owner, interpolation)
        self.fill_value = _aug.fill_value_arg(owner, fill_value)
        self.data_format = _data_format_arg(owner, data_format)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(fill_mode=self.fill_mode, interpolation=self.interpolation, fill_value=self.fill_value,
                   data_format=self.data_format)
        return cfg


class RandomRotation(_GeometricLayer):
    """Rotate each image by a random angle, ``factor`` a fraction of a full turn: a number f
    gives [-f, f] * 360 degrees, a pair (lower, upper) that range; positive is counter-clockwise.
    The course's 15 degrees: ``RandomRotation(15 / 360)``. Outside the image: ``fill_mode``
    ('reflect' default, 'constant' with ``fill_value``, 'nearest', 'wrap')."""

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 data_format="channels_first", **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.factor = _aug.factor_range("RandomRotation", "factor", factor)
        self._factor_arg = _factor_config(factor)

    def transform(self, x, rng):
        return _aug.random_rotation(x, self.factor, rng, self.fill_mode, self.interpolation, self.fill_value)

    def get_config(self):
        cfg = super().get_config()
        cfg["factor"] = self._factor_arg
        return cfg


class RandomTranslation(_GeometricLayer):
    """Shift each image by random fractions of its height (positive: down) and width
    (positive: right): each factor a number f ([-f, f]) or a pair, bounds in [-1, 1]."""

    def __init__(self, height_factor, width_factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format="channels_first", **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _aug.factor_range("RandomTranslation", "height_factor", height_factor, -1.0, 1.0)
        self.width_factor = _aug.factor_range("RandomTranslation", "width_factor", width_factor, -1.0, 1.0)
        self._args = (_factor_config(height_factor), _factor_config(width_factor))

    def transform(self, x, rng):
        return _aug.random_translation(x, self.height_factor, self.width_factor, rng, self.fill_mode,
                                       self.interpolation, self.fill_value)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=self._args[0], width_factor=self._args[1])
        return cfg


class RandomZoom(_GeometricLayer):
    """Zoom each image by 1 + a random factor: positive zooms out, negative in (bounds in
    [-1, 1]); ``width_factor=None`` zooms both axes alike, keeping the aspect ratio."""

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format="channels_first", **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, data_format, **kwargs)
        self.height_factor = _aug.factor_range("RandomZoom", "height_factor", height_factor, -1.0, 1.0)
        self.width_factor = (None if width_factor is None
                             else _aug.factor_range("RandomZoom", "width_factor", width_factor, -1.0, 1.0))
        self._args = (_factor_config(height_factor), _factor_config(width_factor))

    def transform(self, x, rng):
        return _aug.random_zoom(x, self.height_factor, rng, self.width_factor, self.fill_mode, self.interpolation,
                                self.fill_value)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(height_factor=self._args[0], width_factor=self._args[1])
        return cfg


class RandomFlip(_RandomLayer):
    """Flip each image left-right ('horizontal'), upside down ('vertical') or each of the two
    ('horizontal_and_vertical', the default), each with probability 1/2 and, for the two,
    independently (as Keras 2 and tf.image; the Keras 3 code read here draws one coin for both,
    so that its images are either turned by 180 degrees or left alone)."""

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format="channels_first", **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in _aug.FLIP_MODES:
            raise ValueError(f"RandomFlip: mode must be one of {_aug.FLIP_MODES}, got {mode!r}")
        self.mode = mode
        self.data_format = _data_format_arg("RandomFlip", data_format)

    def transform(self, x, rng):
        return _aug.random_flip(x, self.mode, rng)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(mode=self.mode, data_format=self.data_format)
        return cfg


class RandomBrightness(_RandomLayer):
    """Add to each image a random delta, ``factor`` (a number f: [-f, f]; bounds in [-1, 1]) times
    the width of ``value_range``, then clip to ``value_range`` (default (0, 255), as Keras)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format="channels_first", **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _aug.factor_range("RandomBrightness", "factor", factor, -1.0, 1.0)
        self.value_range = _aug.value_range_arg("RandomBrightness", value_range)
        self.data_format = _data_format_arg("RandomBrightness", data_format)
        self._factor_arg = _factor_config(factor)

    def transform(self, x, rng):
        return _aug.random_brightness(x, self.factor, rng, self.value_range)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(factor=self._factor_arg, value_range=list(self.value_range), data_format=self.data_format)
        return cfg


class RandomContrast(_RandomLayer):
    """Scale each image's deviation from its per-channel mean by a random factor in
    [1 - lower, 1 + upper] (``factor`` a number f: lower = upper = f; bounds in [0, 1]), then clip to
    ``value_range`` (default (0, 255), as Keras)."""

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format="channels_first", **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = _aug.contrast_factor_arg("RandomContrast", factor)
        self.value_range = _aug.value_range_arg("RandomContrast", value_range)
        self.data_format = _data_format_arg("RandomContrast", data_format)
        self._factor_arg = _factor_config(factor)

    def transform(self, x, rng):
        return _aug.random_contrast(x, self.factor, rng, self.value_range)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(factor=self._factor_arg, value_range=list(self.value_range), data_format=self.data_format)
        return cfg


class GaussianNoise(_RandomLayer):
    """In training, add zero-mean Gaussian noise of standard deviation ``stddev`` to every
    value (a regulariser; any input shape). The gradient passes through unchanged."""

    _image = False
    supports_masking = True  # elementwise: a sequence's mask passes through (Keras)

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if not _aug._is_real(stddev) or stddev < 0:
            raise ValueError(f"GaussianNoise: stddev must be a finite number >= 0, got {stddev!r}")
        self.stddev = float(stddev)

    def transform(self, x, rng):
        return _aug.gaussian_noise(x, self.stddev, rng)

    def call(self, x, training=None):
        if not training or self.stddev == 0.0:
            return x
        noise = self._rng.standard_normal(tuple(x.shape), dtype=np.dtype(x.dtype.name)) * self.stddev
        return x + _C.tensor(noise.astype(x.dtype.name), dtype=x.dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg["stddev"] = self.stddev
        return cfg


class GaussianDropout(_RandomLayer):
    """In training, multiply every value by Gaussian noise of mean 1 and standard deviation
    sqrt(rate / (1 - rate)) (``rate`` in [0, 1), as Dropout's). The gradient is scaled by the same
    noise."""

    _image = False
    supports_masking = True  # elementwise: a sequence's mask passes through (Keras)

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _aug.rate_arg("GaussianDropout", "rate", rate)

    def _noise(self, rng, shape):
        return 1.0 + rng.standard_normal(shape) * math.sqrt(self.rate / (1.0 - self.rate))

    def transform(self, x, rng):
        if not isinstance(x, np.ndarray) or x.dtype not in (np.float32, np.float64):
            raise TypeError("GaussianDropout.transform: x must be a float32 or float64 NumPy array")
        return (x * self._noise(rng, x.shape)).astype(x.dtype)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        noise = self._noise(self._rng, tuple(x.shape)).astype(x.dtype.name)
        return x * _C.tensor(noise, dtype=x.dtype)

    def get_config(self):
        cfg = super().get_config()
        cfg["rate"] = self.rate
        return cfg


class MaskingNoise(_RandomLayer):
    """In training, set each value to 0 with probability ``rate`` and leave the rest unchanged
    (no 1/(1-rate) rescaling, unlike Dropout): the denoising autoencoder's corruption of its
    input (Vincent et al. 2008). The identity in inference. Any input shape; no gradient to
    the input (put it first, on the data)."""

    _image = False

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = _aug.rate_arg("MaskingNoise", "rate", rate, upper_open=False)

    def transform(self, x, rng):
        return _aug.masking_noise(x, self.rate, rng)

    def call(self, x, training=None):
        if not training or self.rate == 0.0:
            return x
        if x.requires_grad:
            raise ValueError(f"{self.name}: MaskingNoise corrupts the data and has no gradient with respect to its "
                             "input, so it must come before any layer with weights (put it first in the model)")
        return _C.tensor(self.transform(x.detach().numpy(), self._rng), dtype=x.dtype)

    def get_config(self):
        return {**super().get_config(), "rate": self.rate}
