"""Convolution layers over NCHW images: Conv2D, Conv2DTranspose, DepthwiseConv2D,
SeparableConv2D, and Conv1D over (N, C, L) sequences; each is one or two C++ ops
(``pydl.functional.conv2d``, ``conv2d_transpose``, ``conv1d``) plus the activation.

pydl computes in PyTorch's layout: images are (batch, channels, height, width)
("channels_first", the default) and a Conv2D kernel is (filters, in_channels / groups, kh, kw),
which is what ``get_weights``/``set_weights`` exchange. ``data_format='channels_last'`` makes an
image layer take Keras's (batch, height, width, channels) arrays: it transposes at its input and
back at its output, the weights keep pydl's layout.
"""
import numbers

import numpy as np

from .. import _C
from .. import activations as _act
from .. import functional as _F
from .. import initializers as _init
from .. import regularizers as _reg
import warnings

from .base import Layer, keras1_names


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
    """'channels_first' (pydl's NCHW / (N, C, L), the default) or 'channels_last' (Keras's NHWC /
    (N, L, C): the layer transposes at its input and back at its output, see ``channels_last_aware``)."""
    if data_format not in ("channels_first", "channels_last"):
        raise ValueError(f"{owner}: data_format must be 'channels_first' (pydl's default: NCHW images) or "
                         f"'channels_last' (NHWC images, Keras's default), got {data_format!r}")
    return data_format


def _sequence_format_arg(owner, data_format):
    """data_format of a 1-D layer (Conv1D, MaxPooling1D, the global 1-D poolings), which has no
    default: Keras's is 'channels_last' ((batch, steps, channels), what Embedding and the recurrent
    layers give) and PyTorch's layout is channels first ((batch, channels, steps)); a sequence's two
    axes both look plausible either way, so a default would misread someone's data silently (a
    Keras Embedding -> Conv1D model would convolve over the embedding instead of the words)."""
    if data_format is None:
        raise ValueError(f"{owner}: give data_format: 'channels_last' for (batch, steps, channels) sequences "
                         "(what Embedding and the recurrent layers give; Keras's default), or 'channels_first' "
                         "for (batch, channels, steps) (PyTorch's Conv1d layout). There is no default: the two "
                         "layouts give shapes that both look plausible, so a wrong guess would run on the wrong "
                         "axis silently")
    return _data_format_arg(owner, data_format)


class _KnownLayout(tuple):
    """A sample shape whose channels axis is known to be right (a built layer's later input, whose
    rank and channels match those it was built for): the layout guesses below are skipped."""


def _image_shape(owner, name, input_shape):
    """The (C, H, W) sample shape, or a ValueError naming the layer; a sample that looks like
    channels_last (height, width, 1 or 3 or 4 channels) is refused with the way out."""
    if len(input_shape) != 3:
        raise ValueError(f"{name}: {owner} takes NCHW images, i.e. samples of shape (channels, height, width), "
                         f"got sample shape {tuple(input_shape)}")
    shape = tuple(int(d) for d in input_shape)
    if not isinstance(input_shape, _KnownLayout) and shape[2] in (1, 3, 4) and shape[0] >= 8 and shape[1] >= 8:
        raise ValueError(f"{name}: {owner} got samples of shape {shape}, which look like channels_last images "
                         f"(height {shape[0]}, width {shape[1]}, {shape[2]} channel(s) on the last axis), but it "
                         f"takes channels_first (channels, height, width) images. Give the image layers "
                         f"data_format='channels_last', or transpose the data to NCHW with x.transpose(0, 3, 1, 2)")
    return shape


def channels_last_aware(rank):
    """Class decorator for a layer whose build/call/compute_output_shape work on channels-first
    samples of `rank` axes ((C, H, W): 3; (C, L): 2): with ``data_format='channels_last'`` the
    layer takes (H, W, C) / (L, C) samples, moves the channels axis first at its input and back
    last at its output (a permuted view; the ops copy to contiguous memory where they need it)."""
    def decorate(cls):
        build, call, output_shape = cls.build, cls.call, cls.compute_output_shape
        to_first = (0, rank) + tuple(range(1, rank))        # (N, H, W, C) -> (N, C, H, W)
        to_last = (0,) + tuple(range(2, rank + 1)) + (1,)   # (N, C, H, W) -> (N, H, W, C)
        names = {3: ("NHWC images", "(height, width, channels)"), 2: ("(N, length, channels) sequences",
                                                                       "(length, channels)")}[rank]

        def first(self, shape_in):
            shape = tuple(int(d) for d in shape_in)
            if len(shape) != rank:
                raise ValueError(f"{self.name}: {type(self).__name__} with data_format='channels_last' takes "
                                 f"{names[0]}, i.e. samples of shape {names[1]}, got sample shape {shape}")
            known = isinstance(shape_in, _KnownLayout)
            if rank == 3 and not known and shape[0] in (1, 3, 4) and shape[1] >= 8 and shape[2] >= 8:
                raise ValueError(f"{self.name}: {type(self).__name__} has data_format='channels_last' but got "
                                 f"samples of shape {shape}, which look like channels_first images ({shape[0]} channel(s) "
                                 f"first, then {shape[1]}x{shape[2]}): drop data_format='channels_last', or "
                                 "transpose the data to NHWC with x.transpose(0, 2, 3, 1)")
            moved = (shape[-1],) + shape[:-1]
            return _KnownLayout(moved) if known else moved

        def build_(self, input_shape):
            return build(self, first(self, input_shape) if self.data_format == "channels_last" else input_shape)

        def call_(self, x, training=None, **kwargs):
            if self.data_format != "channels_last":
                return call(self, x, training=training, **kwargs)
            y = call(self, x.permute(*to_first), training=training, **kwargs)
            return y.permute(*to_last) if y.dim() == rank + 1 else y  # (N, C) from global pooling stays

        def output_shape_(self, input_shape):
            if self.data_format != "channels_last":
                return output_shape(self, input_shape)
            out = tuple(output_shape(self, first(self, input_shape)))
            return out[1:] + out[:1] if len(out) == rank else out

        def check_input(self, shape):
            # As Keras's input_spec for these layers: the rank and the channels are fixed when
            # the layer is built, the spatial size is not (a filter slides over any image size).
            if self.input_shape is None:
                return
            want, shape = tuple(self.input_shape[1:]), tuple(int(d) for d in shape)
            ch = -1 if self.data_format == "channels_last" else 0
            if len(shape) != len(want) or shape[ch] != want[ch]:
                moved = want[1:] + want[:1] if ch == 0 else want[-1:] + want[:-1]
                hint = ""
                if rank == 3 and shape == moved:  # the built shape with its channels axis moved
                    hint = (f"; these look like {'channels_last' if ch == 0 else 'channels_first'} samples "
                            f"({want[ch]} channel(s) on axis {3 if ch == 0 else 1} of x): "
                            + ("give the image layers data_format='channels_last', or transpose the data to "
                               "NCHW with x.transpose(0, 3, 1, 2)" if ch == 0 else
                               "drop data_format='channels_last', or transpose the data to NHWC with "
                               "x.transpose(0, 2, 3, 1)"))
                raise ValueError(f"{self.name}: {type(self).__name__} was built for samples of shape {want} "
                                 f"({want[ch]} channels, data_format={self.data_format!r}); got (batch,) + {shape}: "
                                 f"the rank and the number of channels must stay the same (the spatial size may "
                                 f"change){hint}")
            # a new spatial size must still fit the layer (its kernel, pool or cropping): the
            # layer's own check says so with its name, before the op sees it (or, for Cropping2D,
            # before slicing gives an empty image)
            self.compute_output_shape(_KnownLayout(shape))

        for name, fn, orig in (("build", build_, build), ("call", call_, call),
                               ("compute_output_shape", output_shape_, output_shape)):
            fn.__name__, fn.__doc__, fn.__wrapped__ = orig.__name__, orig.__doc__, orig
            setattr(cls, name, fn)
        cls._check_input = check_input
        return cls
    return decorate


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


def _filters_arg(owner, filters):
    if filters is None or isinstance(filters, bool) or not isinstance(filters, numbers.Integral) or filters < 1:
        raise ValueError(f"{owner}: filters must be a positive integer, got {filters!r}")
    return int(filters)


def _groups_arg(owner, groups, filters):
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral) or groups < 1:
        raise ValueError(f"{owner}: groups must be a positive integer, got {groups!r}")
    if filters % groups:
        raise ValueError(f"{owner}: filters ({filters}) must be divisible by groups ({groups})")
    return int(groups)


def _set_kernel_args(layer, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                     bias_regularizer):
    """The arguments every kernel + bias convolution shares: Keras's activation, use_bias,
    kernel/bias initializers and regularizers (the weights themselves come in build)."""
    layer.activation = _act.get(activation)
    layer.use_bias = bool(use_bias)
    layer.kernel_initializer = _init.get(kernel_initializer)
    layer.bias_initializer = _init.get(bias_initializer)
    layer.kernel_regularizer = _reg.get(kernel_regularizer)
    layer.bias_regularizer = _reg.get(bias_regularizer)
    layer.kernel = None
    layer.bias = None


@channels_last_aware(3)
class Conv2D(Layer):
    """y = activation(conv2d(x, W) + b) over NCHW images, Keras's arguments.

    W has shape (filters, in_channels / groups, kh, kw) (PyTorch's layout), b (filters,).
    ``padding``: 'valid' (no padding) or 'same' (output ceil(size / stride), the extra
    row/column of zeros at the bottom/right as Keras). ``groups``: the input channels and the
    filters split into groups convolved separately. ``data_format='channels_last'``: NHWC input and output.
    """

    @keras1_names(nb_filter="filters", border_mode="padding", subsample="strides", init="kernel_initializer",
                  W_regularizer="kernel_regularizer", b_regularizer="bias_regularizer", bias="use_bias")
    def __init__(self, filters=None, kernel_size=None, strides=(1, 1), padding="valid",
                 data_format="channels_first", dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = _filters_arg("Conv2D", filters)
        if kernel_size is None:
            raise ValueError("Conv2D: give kernel_size, an int or a pair (kh, kw), e.g. Conv2D(32, 3)")
        self.kernel_size = _positive_pair("Conv2D", "kernel_size", kernel_size)
        self.strides = _positive_pair("Conv2D", "strides", strides)
        self.dilation_rate = _positive_pair("Conv2D", "dilation_rate", dilation_rate)
        self.padding = _padding_arg("Conv2D", padding)
        self.data_format = _data_format_arg("Conv2D", data_format)
        self.groups = _groups_arg("Conv2D", groups, self.filters)
        _set_kernel_args(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer)

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


def Convolution2D(nb_filter=None, nb_row=None, nb_col=None, **kwargs):
    """Keras 1's name and form, ``Convolution2D(25, 3, 3)`` = ``Conv2D(25, (3, 3))``: nb_filter
    filters of nb_row x nb_col, with a DeprecationWarning; dim_ordering 'th'/'tf' is data_format
    'channels_first'/'channels_last'; the other Keras 1 names (border_mode, subsample, init,
    W_regularizer, b_regularizer, bias) and Keras's own work as in Conv2D. Returns
    a Conv2D (as Keras 2 made Convolution2D an alias), which is what a saved model records."""
    if (nb_row is None) != (nb_col is None):
        raise TypeError(f"Convolution2D: give both nb_row and nb_col (Keras 1's kernel height and width), got "
                        f"nb_row={nb_row!r}, nb_col={nb_col!r}")
    if nb_row is not None:
        if "kernel_size" in kwargs:
            raise TypeError("Convolution2D: got both nb_row/nb_col (the Keras 1 names) and kernel_size; give only "
                            "kernel_size")
        warnings.warn(f"Convolution2D({nb_filter}, {nb_row}, {nb_col}) is the Keras 1 form; use "
                      f"Conv2D({nb_filter}, ({nb_row}, {nb_col}))", DeprecationWarning, stacklevel=2)
        kwargs["kernel_size"] = (nb_row, nb_col)
    if "dim_ordering" in kwargs:  # Keras 1: 'th' (Theano's NCHW) or 'tf' (TensorFlow's NHWC)
        order = kwargs.pop("dim_ordering")
        if "data_format" in kwargs:
            raise TypeError("Convolution2D: got both dim_ordering (the Keras 1 name) and data_format; give only "
                            "data_format")
        formats = {"th": "channels_first", "tf": "channels_last"}
        if order not in formats:
            raise ValueError(f"Convolution2D: dim_ordering must be 'th' (channels_first) or 'tf' (channels_last), "
                             f"got {order!r}")
        warnings.warn(f"Convolution2D: dim_ordering={order!r} is the Keras 1 name; use "
                      f"data_format={formats[order]!r}", DeprecationWarning, stacklevel=2)
        kwargs["data_format"] = formats[order]
    if nb_filter is not None:
        if "filters" in kwargs:
            raise TypeError("Convolution2D: got both nb_filter (the Keras 1 name) and filters; give only filters")
        kwargs["filters"] = nb_filter
    return Conv2D(**kwargs)


# ---------------------------------------------------------------- Conv2DTranspose, DepthwiseConv2D,
# SeparableConv2D, Conv1D (issue 8, second slice)
def _positive_int(owner, name, value):
    """An int or a 1-tuple of one positive int (Keras's 1-D forms) -> int."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{owner}: {name} must be an int, got {value!r}")
    if value < 1:
        raise ValueError(f"{owner}: {name} must be positive, got {value!r}")
    return int(value)




def _reg_config(r):
    return None if r is None else _reg.serialize(r)


def _transpose_length(size, kernel, stride, dilation, padding, output_padding):
    """Keras's output length of a transposed convolution along one axis."""
    k = dilation * (kernel - 1) + 1
    if output_padding is None:
        return size * stride + max(k - stride, 0) if padding == "valid" else size * stride
    pad = k // 2 if padding == "same" else 0
    return (size - 1) * stride + k - 2 * pad + output_padding


def _transpose_pads(size, kernel, stride, dilation, length):
    """(crop at the start, crop at the end, extra rows at the end) that turn the full transposed
    output ((size - 1) * stride + dilated kernel) into `length`: TensorFlow's and JAX's
    placement, the adjoint of a 'same'/'valid' convolution of a `length` input (the odd row of a
    crop goes at the end)."""
    full = (size - 1) * stride + dilation * (kernel - 1) + 1
    total = max(full - length, 0)
    return total // 2, total - total // 2, length - full + total


@channels_last_aware(3)
class Conv2DTranspose(Layer):
    """Transposed convolution ("deconvolution") over NCHW images, Keras's arguments: the adjoint of
    a Conv2D with the same kernel size, strides and padding, so it maps that Conv2D's output size
    back to (a multiple of) its input size: with padding='same' the output is input * strides.

    The kernel has shape (in_channels, filters, kh, kw) (PyTorch's layout), the bias (filters,).
    ``output_padding`` (int, pair or None, each smaller than the stride) picks the output size as
    Keras: (size - 1) * stride + kernel - 2 * pad + output_padding, pad = kernel // 2 for 'same'.
    """

    def __init__(self, filters=None, kernel_size=None, strides=(1, 1), padding="valid", output_padding=None,
                 data_format="channels_first", dilation_rate=(1, 1), activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros", kernel_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = "Conv2DTranspose"
        self.filters = _filters_arg(owner, filters)
        if kernel_size is None:
            raise ValueError(f"{owner}: give kernel_size, an int or a pair (kh, kw), e.g. {owner}(32, 3)")
        self.kernel_size = _positive_pair(owner, "kernel_size", kernel_size)
        self.strides = _positive_pair(owner, "strides", strides)
        self.dilation_rate = _positive_pair(owner, "dilation_rate", dilation_rate)
        self.padding = _padding_arg(owner, padding)
        self.data_format = _data_format_arg(owner, data_format)
        if output_padding is None:
            self.output_padding = None
        else:
            op = _F._pair(output_padding, owner, "output_padding")
            if min(op) < 0 or op[0] >= self.strides[0] or op[1] >= self.strides[1]:
                raise ValueError(f"{owner}: output_padding {op} must be non-negative and smaller than the strides "
                                 f"{self.strides}")
            self.output_padding = op
        _set_kernel_args(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer)

    def _out_hw(self, h, w):
        op = self.output_padding or (None, None)
        out = tuple(_transpose_length(n, k, s, d, self.padding, o) for n, k, s, d, o in
                    zip((h, w), self.kernel_size, self.strides, self.dilation_rate, op))
        if min(out) < 1:
            raise ValueError(f"{self.name}: Conv2DTranspose output would be {out} for input image {(h, w)} "
                             f"(kernel {self.kernel_size}, strides {self.strides}, padding '{self.padding}', "
                             f"output_padding {self.output_padding})")
        return out

    def build(self, input_shape):
        c, h, w = _image_shape("Conv2DTranspose", self.name, input_shape)
        self._out_hw(h, w)
        self.kernel = self.add_weight("kernel", (c, self.filters) + self.kernel_size, self.kernel_initializer,
                                      self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=None, logits=False):
        h, w = x.shape[2], x.shape[3]
        out = self._out_hw(h, w)
        (pt, pb, oph), (pl, pr, opw) = (_transpose_pads(n, k, s, d, o) for n, k, s, d, o in
                                        zip((h, w), self.kernel_size, self.strides, self.dilation_rate, out))
        y = _C.conv2d_transpose(x, self.kernel, self.bias, self.strides, (pt, pb, pl, pr), (oph, opw),
                                   self.dilation_rate, 1)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        _, h, w = _image_shape("Conv2DTranspose", self.name, input_shape)
        return (self.filters,) + self._out_hw(h, w)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=list(self.kernel_size), strides=list(self.strides),
                   padding=self.padding,
                   output_padding=None if self.output_padding is None else list(self.output_padding),
                   data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                   activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   kernel_regularizer=_reg_config(self.kernel_regularizer),
                   bias_regularizer=_reg_config(self.bias_regularizer),
                   activity_regularizer=_reg_config(self.activity_regularizer))
        return cfg


class _KerasDepthwiseInit:
    """Draws a depthwise kernel so that Glorot/He see Keras's fans for its (kh, kw, C,
    depth_multiplier) kernel (fan_in C * kh * kw, fan_out depth_multiplier * kh * kw): drawn as
    pydl's conv layout (dm, C, kh, kw), whose fans are those, then laid out as the grouped-conv
    kernel (C * dm, 1, kh, kw), channel c's m-th filter at row c * dm + m (a grouped conv with
    groups = C would otherwise get fan_in kh * kw and fan_out C * dm * kh * kw)."""

    def __init__(self, base, channels, depth_multiplier):
        self.base, self.c, self.dm = base, channels, depth_multiplier

    def __call__(self, shape, dtype="float32"):
        kh, kw = shape[2], shape[3]
        k = np.asarray(self.base((self.dm, self.c, kh, kw), dtype=dtype))
        return np.ascontiguousarray(k.transpose(1, 0, 2, 3).reshape(self.c * self.dm, 1, kh, kw))


class _DepthwiseMixin:
    """The depthwise half shared by DepthwiseConv2D and SeparableConv2D: one kh x kw filter per
    input channel and multiplier, a conv2d with groups = channels."""

    def _depthwise_args(self, owner, kernel_size, strides, padding, data_format, dilation_rate, depth_multiplier):
        if kernel_size is None:
            raise ValueError(f"{owner}: give kernel_size, an int or a pair (kh, kw)")
        self.kernel_size = _positive_pair(owner, "kernel_size", kernel_size)
        self.strides = _positive_pair(owner, "strides", strides)
        self.dilation_rate = _positive_pair(owner, "dilation_rate", dilation_rate)
        self.padding = _padding_arg(owner, padding)
        self.data_format = _data_format_arg(owner, data_format)
        if (isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, numbers.Integral)
                or depth_multiplier < 1):
            raise ValueError(f"{owner}: depth_multiplier must be a positive integer, got {depth_multiplier!r}")
        self.depth_multiplier = int(depth_multiplier)

    def _depthwise_weight_args(self, activation, use_bias, depthwise_initializer, bias_initializer,
                               depthwise_regularizer, bias_regularizer):
        """Keras's activation, use_bias and the depthwise kernel's and bias's initializers and
        regularizers (the weights themselves come in build)."""
        self.activation = _act.get(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = _init.get(depthwise_initializer)
        self.bias_initializer = _init.get(bias_initializer)
        self.depthwise_regularizer = _reg.get(depthwise_regularizer)
        self.bias_regularizer = _reg.get(bias_regularizer)
        self.bias = None

    def _check_depthwise(self, owner, input_shape):
        c, h, w = _image_shape(owner, self.name, input_shape)
        _check_window_fits(owner, self.name, (h, w), self.kernel_size, self.dilation_rate, self.padding)
        return c, h, w

    def _depthwise_hw(self, h, w):
        return (_output_size(h, self.kernel_size[0], self.strides[0], self.dilation_rate[0], self.padding),
                _output_size(w, self.kernel_size[1], self.strides[1], self.dilation_rate[1], self.padding))

    def _depthwise(self, x, kernel, bias):
        return _F.conv2d(x, kernel, bias, self.strides, self.padding, self.dilation_rate, x.shape[1])

    def _depthwise_config(self, cfg):
        cfg.update(kernel_size=list(self.kernel_size), strides=list(self.strides), padding=self.padding,
                   data_format=self.data_format, dilation_rate=list(self.dilation_rate),
                   depth_multiplier=self.depth_multiplier)


@channels_last_aware(3)
class DepthwiseConv2D(_DepthwiseMixin, Layer):
    """Each input channel convolved with its own ``depth_multiplier`` filters (no mixing across
    channels): conv2d with groups = channels. Output channels C * depth_multiplier, channel c's
    m-th at c * depth_multiplier + m (as Keras). The kernel has shape
    (C * depth_multiplier, 1, kh, kw) (pydl's grouped-conv layout of Keras's (kh, kw, C, dm));
    its initializer sees Keras's fans."""

    def __init__(self, kernel_size=None, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format="channels_first", dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros", depthwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self._depthwise_args("DepthwiseConv2D", kernel_size, strides, padding, data_format, dilation_rate,
                             depth_multiplier)
        self._depthwise_weight_args(activation, use_bias, depthwise_initializer, bias_initializer,
                                    depthwise_regularizer, bias_regularizer)
        self.kernel = None

    def build(self, input_shape):
        c, _, _ = self._check_depthwise("DepthwiseConv2D", input_shape)
        self.kernel = self.add_weight("kernel", (c * self.depth_multiplier, 1) + self.kernel_size,
                                      _KerasDepthwiseInit(self.depthwise_initializer, c, self.depth_multiplier),
                                      self.depthwise_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (c * self.depth_multiplier,), self.bias_initializer,
                                        self.bias_regularizer)

    def call(self, x, training=None, logits=False):
        y = self._depthwise(x, self.kernel, self.bias)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        c, h, w = self._check_depthwise("DepthwiseConv2D", input_shape)
        return (c * self.depth_multiplier,) + self._depthwise_hw(h, w)

    def get_config(self):
        cfg = super().get_config()
        self._depthwise_config(cfg)
        cfg.update(activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   depthwise_initializer=_init.serialize(self.depthwise_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   depthwise_regularizer=_reg_config(self.depthwise_regularizer),
                   bias_regularizer=_reg_config(self.bias_regularizer),
                   activity_regularizer=_reg_config(self.activity_regularizer))
        return cfg


@channels_last_aware(3)
class SeparableConv2D(_DepthwiseMixin, Layer):
    """A depthwise convolution (``depth_multiplier`` filters per input channel, with the strides,
    padding and dilation) then a pointwise 1x1 convolution to ``filters`` channels, then the bias
    and the activation: Keras's depthwise-separable convolution, with far fewer weights than a
    Conv2D. Weights (Keras's names, pydl's layouts): depthwise_kernel (C * depth_multiplier, 1,
    kh, kw), pointwise_kernel (filters, C * depth_multiplier, 1, 1), bias (filters,)."""

    def __init__(self, filters=None, kernel_size=None, strides=(1, 1), padding="valid", data_format="channels_first",
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.filters = _filters_arg("SeparableConv2D", filters)
        self._depthwise_args("SeparableConv2D", kernel_size, strides, padding, data_format, dilation_rate,
                             depth_multiplier)
        self._depthwise_weight_args(activation, use_bias, depthwise_initializer, bias_initializer,
                                    depthwise_regularizer, bias_regularizer)
        self.pointwise_initializer = _init.get(pointwise_initializer)
        self.pointwise_regularizer = _reg.get(pointwise_regularizer)
        self.depthwise_kernel = None
        self.pointwise_kernel = None

    def build(self, input_shape):
        c, _, _ = self._check_depthwise("SeparableConv2D", input_shape)
        cm = c * self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            "depthwise_kernel", (cm, 1) + self.kernel_size,
            _KerasDepthwiseInit(self.depthwise_initializer, c, self.depth_multiplier), self.depthwise_regularizer)
        self.pointwise_kernel = self.add_weight("pointwise_kernel", (self.filters, cm, 1, 1),
                                                self.pointwise_initializer, self.pointwise_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=None, logits=False):
        y = _F.conv2d(self._depthwise(x, self.depthwise_kernel, None), self.pointwise_kernel, self.bias)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        _, h, w = self._check_depthwise("SeparableConv2D", input_shape)
        return (self.filters,) + self._depthwise_hw(h, w)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters)
        self._depthwise_config(cfg)
        cfg.update(activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   depthwise_initializer=_init.serialize(self.depthwise_initializer),
                   pointwise_initializer=_init.serialize(self.pointwise_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   depthwise_regularizer=_reg_config(self.depthwise_regularizer),
                   pointwise_regularizer=_reg_config(self.pointwise_regularizer),
                   bias_regularizer=_reg_config(self.bias_regularizer),
                   activity_regularizer=_reg_config(self.activity_regularizer))
        return cfg


def _sequence_shape(owner, name, input_shape):
    """The (C, L) sample shape of a 1-D layer, or a ValueError naming it."""
    if len(input_shape) != 2:
        raise ValueError(f"{name}: {owner} takes sequences (N, channels, length), i.e. samples of shape "
                         f"(channels, length), got sample shape {tuple(input_shape)}")
    return tuple(int(d) for d in input_shape)


@channels_last_aware(2)
class Conv1D(Layer):
    """y = activation(conv1d(x, W) + b) over sequences, Keras's arguments. ``data_format`` has no
    default: 'channels_first' for (N, channels, length), 'channels_last' for (N, length, channels)
    (Keras's, what Embedding and the recurrent layers give).

    W has shape (filters, in_channels / groups, kernel_size), b (filters,). ``padding``: 'valid',
    'same' (output ceil(length / strides)) or 'causal' (dilation * (kernel_size - 1) zeros on the
    left only: output t sees inputs up to t, the causal convolution of WaveNet)."""

    def __init__(self, filters=None, kernel_size=None, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = "Conv1D"
        self.filters = _filters_arg(owner, filters)
        if kernel_size is None:
            raise ValueError(f"{owner}: give kernel_size, an int, e.g. Conv1D(32, 3)")
        self.kernel_size = _positive_int(owner, "kernel_size", kernel_size)
        self.strides = _positive_int(owner, "strides", strides)
        self.dilation_rate = _positive_int(owner, "dilation_rate", dilation_rate)
        if not (isinstance(padding, str) and padding.lower() in ("valid", "same", "causal")):
            raise ValueError(f"{owner}: padding must be 'valid', 'same' or 'causal', got {padding!r}")
        self.padding = padding.lower()
        self.data_format = _sequence_format_arg(owner, data_format)
        self.groups = _groups_arg(owner, groups, self.filters)
        _set_kernel_args(self, activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
                         bias_regularizer)

    def _check_sequence(self, input_shape):
        c, length = _sequence_shape("Conv1D", self.name, input_shape)
        if c % self.groups:
            raise ValueError(f"{self.name}: the input channels ({c}, of sample shape {tuple(input_shape)}) must be "
                             f"divisible by groups ({self.groups})")
        span = self.dilation_rate * (self.kernel_size - 1) + 1
        if self.padding == "valid" and span > length:
            raise ValueError(f"{self.name}: Conv1D kernel {self.kernel_size} (spanning {span} with dilation "
                             f"{self.dilation_rate}) is longer than the input sequence ({length}) with "
                             "padding='valid'; use a shorter kernel, a longer input or padding='same'/'causal'")
        return c, length

    def build(self, input_shape):
        c, _ = self._check_sequence(input_shape)
        self.kernel = self.add_weight("kernel", (self.filters, c // self.groups, self.kernel_size),
                                      self.kernel_initializer, self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight("bias", (self.filters,), self.bias_initializer, self.bias_regularizer)

    def call(self, x, training=None, logits=False):
        y = _F.conv1d(x, self.kernel, self.bias, self.strides, self.padding, self.dilation_rate, self.groups)
        return y if logits else self.activation(y)

    def compute_output_shape(self, input_shape):
        _, length = self._check_sequence(input_shape)
        if self.padding == "valid":
            return (self.filters, (length - self.dilation_rate * (self.kernel_size - 1) - 1) // self.strides + 1)
        return (self.filters, -(-length // self.strides))  # 'same' and 'causal'

    def get_config(self):
        cfg = super().get_config()
        cfg.update(filters=self.filters, kernel_size=self.kernel_size, strides=self.strides, padding=self.padding,
                   data_format=self.data_format, dilation_rate=self.dilation_rate, groups=self.groups,
                   activation=_act.serialize(self.activation), use_bias=self.use_bias,
                   kernel_initializer=_init.serialize(self.kernel_initializer),
                   bias_initializer=_init.serialize(self.bias_initializer),
                   kernel_regularizer=_reg_config(self.kernel_regularizer),
                   bias_regularizer=_reg_config(self.bias_regularizer),
                   activity_regularizer=_reg_config(self.activity_regularizer))
        return cfg
