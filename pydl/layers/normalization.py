"""Normalisation layers, Keras 3's names, arguments and defaults: BatchNormalization,
LayerNormalization, GroupNormalization. Each is one C++ op of ``pydl.functional``
(``batch_norm``, ``layer_norm``, ``group_norm``).

pydl's images are NCHW, so the channel axis is 1, not Keras's -1 (channels_last). Where an axis
means the channels, the default here is 1, and Keras's values that name the same axis for the
input's rank (-1 on (N, F), -3 on (N, C, H, W)) are accepted; an axis that would normalise over
height or width of an image raises (Keras code written for channels_last that says axis=-1
would otherwise silently normalise over image columns).

All three use the biased variance E[(x - mean)^2] and ``epsilon`` 1e-3, as Keras does.
"""
import numbers

from .. import _C
from .. import functional as _F
from .. import initializers as _init
from .. import regularizers as _reg
from .base import Layer


def _bool_arg(owner, name, value):
    if not isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a bool, got {value!r}")
    return value


def _epsilon_arg(owner, epsilon):
    if isinstance(epsilon, bool) or not isinstance(epsilon, numbers.Real) or not epsilon >= 0:
        raise ValueError(f"{owner}: epsilon must be a number >= 0, got {epsilon!r}")
    return float(epsilon)


def _no_constraint(owner, name, value):
    if value is not None:
        raise ValueError(f"{owner}: {name} is not supported yet (pydl has no weight constraints); got {value!r}")


def _is_int(v):
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _single_axis(owner, axis):
    """Keras's axis: an int (or a list/tuple holding one int)."""
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if not _is_int(axis):
        raise TypeError(f"{owner}: axis must be an int, got {axis!r}")
    return int(axis)


def _resolve_channel_axis(owner, name, axis, input_shape, images_only_channels=True):
    """The non-negative axis of the batched input that ``axis`` names, checked: never the batch
    axis, and on images (rank >= 4) only the channel axis 1."""
    rank = len(input_shape) + 1
    a = axis + rank if axis < 0 else axis
    if not 0 <= a < rank:
        raise ValueError(f"{name}: {owner} axis={axis} is out of range for inputs of rank {rank} "
                         f"(batch,) + {tuple(input_shape)}")
    if a == 0:
        raise ValueError(f"{name}: {owner} axis={axis} is the batch axis of inputs (batch,) + {tuple(input_shape)}; "
                         "give the feature or channel axis (1 for NCHW images and (batch, features))")
    if images_only_channels and rank >= 4 and a != 1:
        raise ValueError(f"{name}: {owner} axis={axis} is a spatial axis of the NCHW images (batch,) + "
                         f"{tuple(input_shape)}: pydl images are channels_first, so the channel axis is 1 "
                         f"(Keras's channels_last axis=-1 is axis=1 here)")
    return a


class _Normalization(Layer):
    """The arguments every normalisation layer shares (Keras's names and defaults)."""

    def __init__(self, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros", gamma_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.epsilon = _epsilon_arg(owner, epsilon)
        self.center = _bool_arg(owner, "center", center)
        self.scale = _bool_arg(owner, "scale", scale)
        self.beta_initializer = _init.get(beta_initializer)
        self.gamma_initializer = _init.get(gamma_initializer)
        self.beta_regularizer = _reg.get(beta_regularizer)
        self.gamma_regularizer = _reg.get(gamma_regularizer)
        _no_constraint(owner, "beta_constraint", beta_constraint)
        _no_constraint(owner, "gamma_constraint", gamma_constraint)
        self.gamma = None
        self.beta = None

    def _add_gamma_beta(self, shape):
        """gamma then beta, Keras's order (get_weights: [gamma, beta, ...])."""
        if self.scale:
            self.gamma = self.add_weight("gamma", shape, self.gamma_initializer, self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight("beta", shape, self.beta_initializer, self.beta_regularizer)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(epsilon=self.epsilon, center=self.center, scale=self.scale,
                   beta_initializer=_init.serialize(self.beta_initializer),
                   gamma_initializer=_init.serialize(self.gamma_initializer),
                   beta_regularizer=None if self.beta_regularizer is None else _reg.serialize(self.beta_regularizer),
                   gamma_regularizer=None if self.gamma_regularizer is None
                   else _reg.serialize(self.gamma_regularizer),
                   beta_constraint=None, gamma_constraint=None)
        return cfg


class BatchNormalization(_Normalization):
    """Normalises each channel (``axis``) with statistics over the batch and every other axis:
    y = gamma * (x - mean) / sqrt(var + epsilon) + beta.

    Training (``fit``, or ``training=True``) uses this batch's mean and biased variance, and
    updates the non-trainable moving statistics as Keras does (outside the autograd graph):
        moving_mean     = moving_mean * momentum + mean(batch) * (1 - momentum)
        moving_variance = moving_variance * momentum + var(batch) * (1 - momentum)
    with var(batch) the biased variance (Keras 3's ``ops.moments``; PyTorch's BatchNorm2d uses the
    unbiased one for its running_var). Keras's momentum 0.99 is PyTorch's momentum 0.01.
    Inference (``evaluate``, ``predict``, or a call without ``training=True``) uses the moving
    statistics. With ``trainable = False`` the layer runs in inference mode even in ``fit`` and
    its moving statistics stay as they are (Keras 3's rule for fine-tuning).

    ``axis``: the channel axis, default 1 (pydl's NCHW images and (batch, features) inputs; Keras's
    default -1 is the same axis on 2-D inputs). Any axis but the batch's is allowed on inputs of
    rank 2 or 3 (an axis of (batch, time, features) sequences, say); on images only the channel
    axis (1, or -3 on 4-D). ``synchronized`` (Keras's cross-device statistics) must stay False.

    Weights, in Keras's order: gamma (if scale), beta (if center), moving_mean, moving_variance,
    each of shape (channels,); on 32 channels that is 128 parameters, 64 of them non-trainable.
    """

    def __init__(self, axis=1, momentum=0.99, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 synchronized=False, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                         gamma_constraint=gamma_constraint, **kwargs)
        owner = type(self).__name__
        self.axis = _single_axis(owner, axis)
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum <= 1:
            raise ValueError(f"{owner}: momentum must be in [0, 1] (Keras's convention: the weight of the old "
                             f"moving statistic, default 0.99), got {momentum!r}")
        self.momentum = float(momentum)
        self.moving_mean_initializer = _init.get(moving_mean_initializer)
        self.moving_variance_initializer = _init.get(moving_variance_initializer)
        if _bool_arg(owner, "synchronized", synchronized):
            raise ValueError(f"{owner}: synchronized=True (statistics across devices) is not supported: pydl "
                             "trains in one process, where the statistics are already the whole batch's")
        self.synchronized = False
        self.moving_mean = None
        self.moving_variance = None
        self._axis = None  # the non-negative axis of the batched input, fixed by build

    def build(self, input_shape):
        self._axis = _resolve_channel_axis(type(self).__name__, self.name, self.axis, input_shape)
        channels = (int(input_shape[self._axis - 1]),)
        self._add_gamma_beta(channels)
        self.moving_mean = self.add_weight("moving_mean", channels, self.moving_mean_initializer, trainable=False)
        self.moving_variance = self.add_weight("moving_variance", channels, self.moving_variance_initializer,
                                               trainable=False)

    def call(self, x, training=None):
        shape = tuple(x.shape)
        if self._axis != 1:
            # The op takes channels on axis 1: view x as (everything before, channels, everything after).
            outer = 1
            for d in shape[:self._axis]:
                outer *= d
            x = x.reshape(outer, shape[self._axis], -1)
        # Keras 3: a frozen BatchNormalization normalises with its moving statistics, even in fit.
        train = bool(training) and self.trainable
        y = _C.batch_norm(x, self.moving_mean, self.moving_variance, self.gamma, self.beta, train,
                             1.0 - self.momentum, self.epsilon, False)
        return y.reshape(shape) if self._axis != 1 else y

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, momentum=self.momentum,
                   moving_mean_initializer=_init.serialize(self.moving_mean_initializer),
                   moving_variance_initializer=_init.serialize(self.moving_variance_initializer),
                   synchronized=False)
        return cfg


class LayerNormalization(_Normalization):
    """Normalises each sample over ``axis`` (default -1, the last): y = gamma * (x - mean) /
    sqrt(var + epsilon) + beta, with gamma and beta elementwise over the normalised axes (Keras's
    shape: the sizes of those axes). ``axis`` is an int or a list of ints that must be the
    trailing axes of the input (-1; [-2, -1]; [1, 2, 3] on (N, C, H, W), ...); other sets raise.
    ``rms_scaling`` (Keras's RMS variant) must stay False. The same in training and inference.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, rms_scaling=False, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                         gamma_constraint=gamma_constraint, **kwargs)
        owner = type(self).__name__
        axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
        if not axes or not all(_is_int(a) for a in axes):
            raise TypeError(f"{owner}: axis must be an int or a list of ints, got {axis!r}")
        self.axis = [int(a) for a in axes] if isinstance(axis, (list, tuple)) else int(axis)
        if _bool_arg(owner, "rms_scaling", rms_scaling):
            raise ValueError(f"{owner}: rms_scaling=True is not supported yet")
        self.rms_scaling = False
        self._normalized_shape = None

    def build(self, input_shape):
        owner = type(self).__name__
        rank = len(input_shape) + 1
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        resolved = sorted({a + rank if a < 0 else a for a in axes})
        if len(resolved) != len(axes) or not all(0 <= a < rank for a in resolved):
            raise ValueError(f"{self.name}: {owner} axis={self.axis!r} must be distinct axes of inputs of rank {rank} "
                             f"(batch,) + {tuple(input_shape)}")
        if resolved != list(range(rank - len(resolved), rank)) or resolved[0] == 0:
            raise ValueError(f"{self.name}: {owner} axis={self.axis!r} on inputs (batch,) + {tuple(input_shape)}: "
                             f"pydl normalises over trailing axes only, not the batch axis (e.g. -1, or [-2, -1])")
        self._normalized_shape = tuple(int(input_shape[a - 1]) for a in resolved)
        self._add_gamma_beta(self._normalized_shape)

    supports_masking = True  # Keras's; each step is normalised on its own when the axes are the features

    def call(self, x, training=None, mask=None):
        if mask is not None:
            first = x.dim() - len(self._normalized_shape)  # the first normalised axis
            masks = mask if isinstance(mask, list) else [mask]
            if any(m is not None and m.ndim > first for m in masks):
                raise ValueError(f"{self.name}: LayerNormalization over axis={self.axis!r} of inputs "
                                 f"{tuple(x.shape)} mixes the masked steps (mask {mask.shape}) into every step's "
                                 "statistics; normalise over the feature axis only (axis=-1)")
        return _F.layer_norm(x, self._normalized_shape, self.gamma, self.beta, self.epsilon)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(axis=self.axis, rms_scaling=False)
        return cfg


class GroupNormalization(_Normalization):
    """Splits the channels into ``groups`` groups of consecutive channels and normalises each
    sample's group over its channels and positions: y = gamma[c] * (x - mean) / sqrt(var +
    epsilon) + beta[c], gamma and beta one per channel. groups = channels is instance
    normalisation, groups = 1 layer normalisation over (C, H, W) with per-channel gamma/beta.
    ``axis``: the channel axis, 1 (pydl's NCHW; Keras's default -1 is channels_last); values
    naming axis 1 for the input's rank (-3 on images, -1 on (batch, channels)) are accepted.
    The same in training and inference.
    """

    def __init__(self, groups=32, axis=1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, **kwargs):
        super().__init__(epsilon=epsilon, center=center, scale=scale, beta_initializer=beta_initializer,
                         gamma_initializer=gamma_initializer, beta_regularizer=beta_regularizer,
                         gamma_regularizer=gamma_regularizer, beta_constraint=beta_constraint,
                         gamma_constraint=gamma_constraint, **kwargs)
        owner = type(self).__name__
        if not _is_int(groups) or groups < 1:
            raise ValueError(f"{owner}: groups must be a positive integer, got {groups!r}")
        self.groups = int(groups)
        self.axis = _single_axis(owner, axis)

    def build(self, input_shape):
        owner = type(self).__name__
        a = _resolve_channel_axis(owner, self.name, self.axis, input_shape)
        if a != 1:
            raise ValueError(f"{self.name}: {owner} axis={self.axis} on inputs (batch,) + {tuple(input_shape)}: "
                             "the channels must be axis 1 ((batch, channels, ...), pydl's channels_first)")
        channels = int(input_shape[0])
        if self.groups > channels:
            raise ValueError(f"{self.name}: {owner} groups={self.groups} cannot be more than the number of channels "
                             f"({channels}, inputs (batch,) + {tuple(input_shape)})")
        if channels % self.groups:
            raise ValueError(f"{self.name}: {owner} groups={self.groups} must divide the number of channels "
                             f"({channels}, inputs (batch,) + {tuple(input_shape)})")
        self._add_gamma_beta((channels,))

    def call(self, x, training=None):
        return _F.group_norm(x, self.groups, self.gamma, self.beta, self.epsilon)

    def get_config(self):
        cfg = super().get_config()
        cfg.update(groups=self.groups, axis=self.axis)
        return cfg
