"""Activation layers with a parameter (Keras's advanced activations)."""
import numbers

from .. import _C
from .base import Layer


class LeakyReLU(Layer):
    """``LeakyReLU(negative_slope=0.3)`` (Keras 3's default; Keras 2 called it ``alpha``):
    f(x) = x for x >= 0, negative_slope * x below. The GAN examples' activation."""

    def __init__(self, negative_slope=0.3, alpha=None, **kwargs):
        super().__init__(**kwargs)
        if alpha is not None:
            if negative_slope != 0.3:
                raise TypeError(f"LeakyReLU: got both negative_slope={negative_slope!r} and alpha={alpha!r} (Keras 2's "
                                "name for it); give negative_slope only")
            import warnings
            warnings.warn("LeakyReLU: alpha= is Keras 2's name; use negative_slope=", DeprecationWarning, stacklevel=2)
            negative_slope = alpha
        if not isinstance(negative_slope, numbers.Real) or isinstance(negative_slope, bool) or negative_slope < 0:
            raise ValueError(f"LeakyReLU: negative_slope must be a number >= 0, got {negative_slope!r}")
        self.negative_slope = float(negative_slope)

    def call(self, x, training=None):
        return _C.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}
