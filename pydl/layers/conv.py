"""Convolution layers over NCHW images: Conv2D, whose maths is one C++ op
(``pydl.functional.conv2d``) plus the activation.

pydl computes in PyTorch's layout: images are (batch, channels, height, width)
("channels_first") and a Conv2D kernel is (filters, in_channels / groups, kh, kw), which is
what ``get_weights``/``set_weights`` exchange. Keras's default channels_last layout is not
supported yet: ``data_format`` other than "channels_first" raises.
"""
import numbers

from .. import activations as _act
from .. import functional as _F
from .. import initializers as _init
from .. import regularizers as _reg
from .base import Layer


def _positive_pair(owner, name, value):
    """An int or an (h, w) pair of positive ints -> (h, w)."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if is_int(value):
        pair = (int(value), int(value))
    elif isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{owner}: {name} must be an int or a pair of ints (h, w), got {value!r}")
    if min(pair) < 1:
        raise ValueError(f"{owner}: {name} must be positive, got {value!r}")
    return pair


def _padding_arg(owner, padding):
    """Keras's 'valid' or 'same' (any case), lower-cased."""
    if isinstance(padding, str) and padding.lower() in ("valid", "same"):
        return padding.lower()
    raise ValueError(f"{owner}: padding must be 'valid' or 'same', got {padding!r}")


def _data_format_arg(owner, data_format):
    if data_format != "channels_first":
        raise ValueError(f"{owner}: data_format={data_format!r} is not supported yet: pydl layers take NCHW "
                         "images (data_format='channels_first'); transpose channels_last (N, H, W, C) data "
                         "to NCHW first, e.g. x.transpose(0, 3, 1, 2)")
    return data_format


def _image_shape(owner, name, input_shape):
    """The (C, H, W) sample shape, or a ValueError naming the layer."""
    if len(input_shape) != 3:
        raise ValueError(f"{name}: {owner} takes NCHW images, i.e. samples of shape (channels, height, width), "
                         f"got sample shape {tuple(input_shape)}")
    return tuple(int(d) for d in input_shape)


def _output_size(size, kernel, stride, dilation, padding):
    """Positions along one axis: ceil(size / stride) for 'same'; for 'valid' the windows that fit."""
    if padding == "same":
        return -(-size // stride)
    return (size - dilation * (kernel - 1) - 1) // stride + 1


def _check_window_fits(owner, name, hw, kernel, dilation, padding, what="kernel"):
    """With 'valid' padding a window larger than the image gives no output: say so."""
    if padding != "valid":
        return
    span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))
    if span[0] > hw[0] or span[1] > hw[1]:
        dil = f" (dilated to {span})" if span != tuple(kernel) else ""
        raise ValueError(f"{name}: {owner} {what} {tuple(kernel)}{dil} is larger than the input image "
                         f"{tuple(hw)} (height, width) with padding='valid'; use a smaller {what}, a larger "
                         "input or padding='same'")


class Conv2D(Layer):
    """y = activation(conv2d(x, W) + b) over NCHW images, Keras's arguments.

    W has shape (filters, in_channels / groups, kh, kw) (PyTorch's layout), b (filters,).
    ``padding``: 'valid' (no padding) or 'same' (output ceil(size / stride), the extra
    row/column of zeros at the bottom/right as Keras). ``groups``: the input channels and the
    filters split into groups convolved separately. Only ``data_format='channels_first'``.
    """

    def __init__(self, filters=None, kernel_size=None, strides=(1, 1), padding="valid",
                 data_format="channels_first", dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        if (filters is None or isinstance(filters, bool) or not isinstance(filters, numbers.Integral)
                or filters < 1):
            raise ValueError(f"Conv2D: filters must be a positive integer, got {filters!r}")
        if kernel_size is None:
            raise ValueError("Conv2D: give kernel_size, an int or a pair (kh, kw), e.g. Conv2D(32, 3)")
        self.filters = int(filters)
        self.kernel_size = _positive_pair("Conv2D", "kernel_size", kernel_size)
        self.strides = _positive_pair("Conv2D", "strides", strides)
        self.dilation_rate = _positive_pair("Conv2D", "dilation_rate", dilation_rate)
        self.padding = _padding_arg("Conv2D", padding)
        self.data_format = _data_format_arg("Conv2D", data_format)
        if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
            raise ValueError(f"Conv2D: groups must be a positive integer, got {groups!r}")
        if self.filters % groups:
            raise ValueError(f"Conv2D: filters ({self.filters}) must be divisible by groups ({groups})")
        self.groups = int(groups)
        self.activation = _act.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _init.get(kernel_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.kernel_regularizer = _reg.get(kernel_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.kernel = None
        self.bias = None

    def _check_image(self, input_shape):
        c, h, w = _image_shape("Conv2D", self.name, input_shape)
        if c % self.groups:
            raise ValueError(f"{self.name}: the input channels ({c}, of sample shape {tuple(input_shape)}) must be "
                             f"divisible by groups ({self.groups})")
        _check_window_fits("Conv2D", self.name, (h, w), self.kernel_size, self.dilation_rate, self.padding)
        return c, h, w

    def build(self, input_shape):
        c, _, _ = self._check_image(input_shape)
        self.kernel = self.add_weight("kernel", (self.filters, c // self.groups) + self.kernel_size,
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=None, logits=False):
        y = _F.conv2d(x, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, self.groups)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        _, h, w = self._check_image(input_shape)
        return (self.filters,
                _output_size(h, self.kernel_size[0], self.strides[0], self.dilation_rate[0], self.padding),
                _output_size(w, self.kernel_size[1], self.strides[1], self.dilation_rate[1], self.padding))

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=list(self.kernel_size), strides=list(self.strides),
                   padding=self.padding, data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                   groups=self.groups, activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   kernel_regularizer=None if self.kernel_regularizer is None else _reg.serialize(self.kernel_regularizer),
                   bias_regularizer=None if self.bias_regularizer is None else _reg.serialize(self.bias_regularizer),
                   activity_regularizer=None if self.activity_regularizer is None
                   else _reg.serialize(self.activity_regularizer))
        return cfg
