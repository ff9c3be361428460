"""Layers that resize NCHW images without weights (Keras's "reshaping" layers): UpSampling2D
(``pydl.functional.upsample2d``), ZeroPadding2D (``pydl.functional.pad2d``) and Cropping2D
(a slice, whose gradient flows back into the kept pixels)."""
import numbers

from .. import functional as _F
from .base import Layer
from .conv import _data_format_arg, _image_shape, _positive_pair, channels_last_aware


def _two_sided(owner, name, value):
    """Keras's forms: an int (all four sides), (sym_h, sym_w), or ((top, bottom), (left, right)),
    of non-negative ints -> (top, bottom, left, right)."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)

    def bad():
        return TypeError(f"{owner}: {name} must be an int, a pair (symmetric height, symmetric width) or "
                         f"((top, bottom), (left, right)), got {value!r}")
    if is_int(value):
        out = (int(value),) * 4
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        if all(is_int(v) for v in value):
            out = (int(value[0]),) * 2 + (int(value[1]),) * 2
        elif all(isinstance(v, (tuple, list)) and len(v) == 2 and all(is_int(e) for e in v) for v in value):
            out = tuple(int(e) for v in value for e in v)
        else:
            raise bad()
    else:
        raise bad()
    if min(out) < 0:
        raise ValueError(f"{owner}: {name} must be non-negative, got {value!r}")
    return out


@channels_last_aware(3)
class UpSampling2D(Layer):
    """Repeat each row ``size[0]`` times and each column ``size[1]`` times (interpolation='nearest'),
    or interpolate bilinearly between the pixels' centres ('bilinear', as Keras's image resize
    and PyTorch's align_corners=False): (C, H, W) -> (C, H * size[0], W * size[1])."""

    def __init__(self, size=(2, 2), data_format="channels_first", interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        owner = "UpSampling2D"
        self.size = _positive_pair(owner, "size", size)
        self.data_format = _data_format_arg(owner, data_format)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{owner}: interpolation must be 'nearest' or 'bilinear', got {interpolation!r}")
        self.interpolation = interpolation

    def call(self, x, training=None):
        return _F.upsample2d(x, scale_factor=self.size, mode=self.interpolation)

    def compute_output_shape(self, input_shape):
        c, h, w = _image_shape("UpSampling2D", self.name, input_shape)
        return (c, h * self.size[0], w * self.size[1])

    def get_config(self):
        cfg = super().get_config()
        cfg.update(size=list(self.size), data_format=self.data_format, interpolation=self.interpolation)
        return cfg


@channels_last_aware(3)
class ZeroPadding2D(Layer):
    """Zeros around each image: ``padding`` an int, (sym_h, sym_w) or ((top, bottom), (left, right))."""

    def __init__(self, padding=(1, 1), data_format="channels_first", **kwargs):
        super().__init__(**kwargs)
        self.padding = _two_sided("ZeroPadding2D", "padding", padding)
        self.data_format = _data_format_arg("ZeroPadding2D", data_format)

    def call(self, x, training=None):
        t, b, l, r = self.padding
        return _F.pad2d(x, (l, r, t, b), "zeros")

    def compute_output_shape(self, input_shape):
        c, h, w = _image_shape("ZeroPadding2D", self.name, input_shape)
        t, b, l, r = self.padding
        return (c, h + t + b, w + l + r)

    def get_config(self):
        cfg = super().get_config()
        t, b, l, r = self.padding
        cfg.update(padding=[[t, b], [l, r]], data_format=self.data_format)
        return cfg


@channels_last_aware(3)
class Cropping2D(Layer):
    """Cut rows and columns off each image: ``cropping`` an int, (sym_h, sym_w) or
    ((top, bottom), (left, right)); at least one row and column must remain."""

    def __init__(self, cropping=((0, 0), (0, 0)), data_format="channels_first", **kwargs):
        super().__init__(**kwargs)
        self.cropping = _two_sided("Cropping2D", "cropping", cropping)
        self.data_format = _data_format_arg("Cropping2D", data_format)

    def call(self, x, training=None):
        t, b, l, r = self.cropping
        return x[:, :, t:x.shape[2] - b, l:x.shape[3] - r]

    def compute_output_shape(self, input_shape):
        c, h, w = _image_shape("Cropping2D", self.name, input_shape)
        t, b, l, r = self.cropping
        if t + b >= h or l + r >= w:
            raise ValueError(f"{self.name}: Cropping2D cropping (top, bottom, left, right) = {self.cropping} leaves "
                             f"nothing of the input image {(h, w)} (height, width)")
        return (c, h - t - b, w - l - r)

    def get_config(self):
        cfg = super().get_config()
        t, b, l, r = self.cropping
        cfg.update(cropping=[[t, b], [l, r]], data_format=self.data_format)
        return cfg
