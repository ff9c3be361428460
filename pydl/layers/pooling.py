"""Pooling layers over NCHW images (Keras's names and arguments): MaxPooling2D,
AveragePooling2D, GlobalMaxPooling2D, GlobalAveragePooling2D, each one C++ op of
``pydl.functional``. data_format='channels_last' takes NHWC input (see ``pydl.layers.conv``).
Over sequences: MaxPooling1D, GlobalAveragePooling1D (which honours a mask), GlobalMaxPooling1D."""
import numpy as np

from .. import _C
from .. import functional as _F
from .base import Layer
from .conv import (_check_window_fits, _data_format_arg, _image_shape, _output_size, _padding_arg, _positive_pair,
                   _sequence_format_arg, channels_last_aware)


@channels_last_aware(3)
class _Pooling2D(Layer):
    _op = None  # the functional op, set by each subclass

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format="channels_first", **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = _positive_pair(owner, "pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _positive_pair(owner, "strides", strides)
        self.padding = _padding_arg(owner, padding)
        self.data_format = _data_format_arg(owner, data_format)

    def call(self, x, training=None):
        return type(self)._op(x, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        owner = type(self).__name__
        c, h, w = _image_shape(owner, self.name, input_shape)
        _check_window_fits(owner, self.name, (h, w), self.pool_size, (1, 1), self.padding, what="pool_size")
        return (c, _output_size(h, self.pool_size[0], self.strides[0], 1, self.padding),
                _output_size(w, self.pool_size[1], self.strides[1], 1, self.padding))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(pool_size=list(self.pool_size), strides=list(self.strides), padding=self.padding,
                   data_format=self.data_format)
        return cfg


class MaxPooling2D(_Pooling2D):
    """The maximum of each pool_size window, moved by ``strides`` (default: pool_size);
    'same' pads so that the output has ceil(size / strides) positions (padding never wins)."""
    _op = staticmethod(_F.max_pool2d)


class AveragePooling2D(_Pooling2D):
    """The mean of each pool_size window; with 'same' a window cut by the border is divided by
    its real elements only, as Keras (not by the window size)."""
    _op = staticmethod(_F.avg_pool2d)


@channels_last_aware(3)
class _GlobalPooling2D(Layer):
    _op = None

    def __init__(self, data_format="channels_first", keepdims=False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.data_format = _data_format_arg(owner, data_format)
        if not isinstance(keepdims, bool):
            raise TypeError(f"{owner}: keepdims must be a bool, got {keepdims!r}")
        self.keepdims = keepdims

    def call(self, x, training=None):
        return type(self)._op(x, self.keepdims)

    def compute_output_shape(self, input_shape):
        c, _, _ = _image_shape(type(self).__name__, self.name, input_shape)
        return (c, 1, 1) if self.keepdims else (c,)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(data_format=self.data_format, keepdims=self.keepdims)
        return cfg


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum of each channel: (batch, C), or (batch, C, 1, 1) with keepdims."""
    _op = staticmethod(_F.global_max_pool2d)


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean of each channel: (batch, C), or (batch, C, 1, 1) with keepdims."""
    _op = staticmethod(_F.global_avg_pool2d)


@channels_last_aware(2)
class MaxPooling1D(Layer):
    """The maximum of each ``pool_size`` window of sequences, moved by ``strides`` (default:
    pool_size); 'same' pads so that the output has ceil(length / strides) positions (padding
    never wins). ``data_format`` has no default, as Conv1D's."""

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        from .conv import _positive_int
        owner = "MaxPooling1D"
        self.pool_size = _positive_int(owner, "pool_size", pool_size)
        self.strides = self.pool_size if strides is None else _positive_int(owner, "strides", strides)
        self.padding = _padding_arg(owner, padding)
        self.data_format = _sequence_format_arg(owner, data_format)

    def call(self, x, training=None):
        return _F.max_pool1d(x, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        from .conv import _sequence_shape
        c, length = _sequence_shape("MaxPooling1D", self.name, input_shape)
        if self.padding == "valid" and self.pool_size > length:
            raise ValueError(f"{self.name}: MaxPooling1D pool_size {self.pool_size} is longer than the input "
                             f"sequence ({length}) with padding='valid'; use a smaller pool_size or padding='same'")
        return (c, _output_size(length, self.pool_size, self.strides, 1, self.padding))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(pool_size=self.pool_size, strides=self.strides, padding=self.padding, data_format=self.data_format)
        return cfg


class _GlobalPooling1D(Layer):
    """Over the steps of (N, steps, features) sequences with data_format='channels_last' (what
    Embedding and the recurrent layers give), or of (N, channels, steps) ones with
    'channels_first' ((N, channels, steps)). data_format must be given (conv._sequence_format_arg)."""

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.data_format = _sequence_format_arg(owner, data_format)
        if not isinstance(keepdims, bool):
            raise TypeError(f"{owner}: keepdims must be a bool, got {keepdims!r}")
        self.keepdims = keepdims

    @property
    def _steps_axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def compute_output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"{self.name}: {type(self).__name__} takes sequences (N, channels, steps) (with "
                             "data_format='channels_last': (N, steps, features)), got sample shape "
                             f"{tuple(input_shape)}")
        features = input_shape[0] if self.data_format == "channels_first" else input_shape[1]
        if not self.keepdims:
            return (features,)
        return (features, 1) if self.data_format == "channels_first" else (1, features)

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps: (batch, features) (keepdims: the steps axis kept, of size 1).
    With a mask (batch, steps) (Embedding(mask_zero=True), Masking) the mean is over the real
    steps only, as Keras: sum of x where the mask is True / their number. The output has no
    steps, so no mask. A sample whose steps are all masked raises (Keras gives NaN there)."""

    supports_masking = True

    def call(self, x, training=None, mask=None):
        axis = self._steps_axis
        if mask is None:
            return _C.mean(x, axis=axis, keepdims=self.keepdims)
        if self.data_format != "channels_last" or mask.shape != tuple(x.shape[:2]):
            raise ValueError(f"{self.name}: GlobalAveragePooling1D got a mask of shape {mask.shape} (batch, steps) "
                             f"for input of shape {tuple(x.shape)} with data_format={self.data_format!r}; masked "
                             "sequences are (batch, steps, features): give data_format='channels_last'")
        count = mask.sum(axis=1)
        if np.any(count == 0):
            raise ValueError(f"{self.name}: GlobalAveragePooling1D: sample {int(np.argmin(count))} has every step "
                             f"masked (mask shape {mask.shape}), so its mean over the real steps is undefined")
        w = (mask / count[:, None])[..., None].astype(x.dtype.name)  # 1/count at the real steps, 0 elsewhere
        return _C.sum(x * _C.tensor(w, dtype=x.dtype), axis=1, keepdims=self.keepdims)

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps: (batch, features). It does not support masking (Keras's
    takes the max over the padded steps too, silently): a masked input raises."""

    def call(self, x, training=None):
        return _C.max(x, axis=self._steps_axis, keepdims=self.keepdims)
