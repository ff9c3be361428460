"""Functional forms of the layers' maths (``pydl.functional.relu(x)``), one C++ op each."""
import numbers

import numpy as np

from ._C import (  # noqa: F401
    linear, relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax,
    dropout,
)
from . import _C

__all__ = ["linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
           "max_pool1d", "max_pool2d", "avg_pool2d", "global_max_pool2d", "global_avg_pool2d",
           "conv2d", "conv1d",
           "conv2d_transpose", "upsample2d", "pad2d",
           "simple_rnn", "lstm", "gru"]


def _pair(value, op, name):
    """An int or an (h, w) pair of ints -> (h, w); anything else a TypeError naming the op."""
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if is_int(value):
        return (int(value), int(value))
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(is_int(v) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{op}: {name} must be an int or a pair of ints (h, w), got {value!r}")


def _same_padding(size, kernel, stride, dilation):
    """Keras's 'same': the output has ceil(size / stride) positions; the padding that needs is
    split with the extra row/column at the end (bottom/right), as Keras and TensorFlow do."""
    out = -(-size // stride)
    total = max((out - 1) * stride + dilation * (kernel - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation, as every framework computes it), PyTorch's arguments.

    x (N, C, H, W); weight (out_channels, C / groups, kh, kw); bias (out_channels,) or None.
    stride, dilation: int or (h, w). padding: int or (h, w) zeros on both sides, 'valid' (none)
    or 'same' (output size ceil(in / stride), as Keras; for stride 1 PyTorch's 'same').
    groups: the channels split into groups convolved separately (groups = C: depthwise).
    Returns (N, out_channels, H_out, W_out) with
    H_out = floor((H + pad_top + pad_bottom - dilation * (kh - 1) - 1) / stride) + 1.
    """
    stride = _pair(stride, "conv2d", "stride")
    dilation = _pair(dilation, "conv2d", "dilation")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"conv2d: groups must be an int, got {groups!r}")
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            pads = (0, 0, 0, 0)
        elif mode == "same":
            pads = (0, 0, 0, 0)  # shapes that cannot convolve are reported by the op itself
            if (isinstance(x, _C.Tensor) and isinstance(weight, _C.Tensor) and x.dim() == 4 and weight.dim() == 4
                    and min(stride) >= 1 and min(dilation) >= 1):
                top, bottom = _same_padding(x.shape[2], weight.shape[2], stride[0], dilation[0])
                left, right = _same_padding(x.shape[3], weight.shape[3], stride[1], dilation[1])
                pads = (top, bottom, left, right)
        else:
            raise ValueError(f"conv2d: padding must be 'valid', 'same', an int or a pair of ints, got {padding!r}")
    else:
        ph, pw = _pair(padding, "conv2d", "padding")
        pads = (ph, ph, pw, pw)
    return _C.conv2d(x, weight, bias, stride, pads, dilation, int(groups))


def _single(value, op, name):
    """An int or a 1-tuple of ints -> int (PyTorch's conv1d forms)."""
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    raise TypeError(f"{op}: {name} must be an int, got {value!r}")


def conv1d(x, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution, PyTorch's arguments: x (N, C, L), weight (out_channels, C / groups, k).

    padding: an int (zeros on both ends), 'valid', 'same' (output length ceil(L / stride), as
    Keras) or 'causal' (dilation * (k - 1) zeros on the left only, as Keras: output t sees
    inputs up to t). Runs conv2d on a height-1 image.
    """
    if not (isinstance(x, _C.Tensor) and isinstance(weight, _C.Tensor)):
        raise TypeError(f"conv1d: x and weight must be pydl tensors, got {type(x).__name__} and "
                        f"{type(weight).__name__}")
    if x.dim() != 3:
        raise ValueError(f"conv1d: the input must be 3-D (N, C, L), got {tuple(x.shape)}")
    if weight.dim() != 3:
        raise ValueError(f"conv1d: the weight must be 3-D (out_channels, in_channels / groups, k), "
                         f"got {tuple(weight.shape)}")
    stride = _single(stride, "conv1d", "stride")
    dilation = _single(dilation, "conv1d", "dilation")
    if stride < 1 or dilation < 1:
        raise ValueError(f"conv1d: stride and dilation must be positive, got stride={stride}, dilation={dilation} "
                         f"(input {tuple(x.shape)}, weight {tuple(weight.shape)})")
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise TypeError(f"conv1d: groups must be an int, got {groups!r}")
    length, k = x.shape[2], weight.shape[2]
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            left = right = 0
        elif mode == "same":
            left, right = _same_padding(length, k, stride, dilation)
        elif mode == "causal":
            left, right = dilation * (k - 1), 0
        else:
            raise ValueError(f"conv1d: padding must be 'valid', 'same', 'causal' or an int, got {padding!r}")
    else:
        left = right = _single(padding, "conv1d", "padding")
    n, c = x.shape[0], x.shape[1]
    try:
        y = _C.conv2d(x.reshape(n, c, 1, length), weight.reshape(weight.shape[0], weight.shape[1], 1, k), bias,
                      (1, stride), (0, 0, left, right), (1, dilation), int(groups))
    except ValueError as e:  # the same checks, said for the 1-D shapes
        raise ValueError(f"conv1d: input {tuple(x.shape)}, weight {tuple(weight.shape)}, padding ({left}, {right}): "
                         f"{e}") from None
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


# ---------------------------------------------------------------- pooling (NCHW)
def _pool_padding(x, padding, kernel, stride, dilation, op):
    """PyTorch's int/pair padding (the same on both sides), or Keras's 'valid'/'same', as
    (top, bottom, left, right). 'same' gives ceil(in / stride) outputs, the extra row/column of
    padding at the bottom/right (as Keras)."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0, 0, 0)
        if padding == "same":
            if len(x.shape) != 4:
                raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
            pads = []
            for n, k, s, d in zip(x.shape[2:], kernel, stride, dilation):
                if s <= 0:
                    raise ValueError(f"{op}: stride must be positive, got {stride} for input shape {tuple(x.shape)}")
                pads += _same_padding(n, k, s, d)
            return tuple(pads)
        raise ValueError(f"{op}: padding must be an int, a pair of ints, 'valid' or 'same', got {padding!r}")
    ph, pw = _pair(padding, op, "padding")
    return (ph, ph, pw, pw)


def max_pool2d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling of NCHW ``x`` (PyTorch's ``max_pool2d``): each output is the maximum of a
    kernel_size window, moved by ``stride`` (default: kernel_size) over x padded with -inf.
    ``padding`` is an int or (h, w) on both sides (at most half the dilated kernel), or Keras's
    'valid'/'same'. The gradient goes to the window's first maximum (a NaN is the maximum)."""
    op = "max_pool2d"
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = kernel if stride is None else _pair(stride, op, "stride")
    dilation = _pair(dilation, op, "dilation")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    pads = _pool_padding(x, padding, kernel, stride, dilation, op)
    return _C.max_pool2d(x, kernel, stride, pads, dilation, ceil_mode)


def max_pool1d(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """Max pooling of (N, C, L) ``x`` (PyTorch's ``max_pool1d``): max_pool2d over x viewed as
    (N, C, 1, L), with the same arguments as single ints (padding also 'valid'/'same')."""
    op = "max_pool1d"
    shape = tuple(x.shape) if hasattr(x, "shape") else None
    if shape is None or len(shape) != 3:
        raise ValueError(f"{op}: expected a 3-D input (N, C, L), got shape {shape}")
    args = {}
    for name, value in (("kernel_size", kernel_size), ("stride", stride), ("padding", padding),
                        ("dilation", dilation)):
        if isinstance(value, (tuple, list)) and len(value) == 1:
            value = value[0]
        if value is not None and not isinstance(value, str) and (isinstance(value, bool) or not isinstance(value, int)):
            raise TypeError(f"{op}: {name} must be an int, got {value!r}")
        args[name] = value
    if isinstance(args["padding"], str) and args["padding"] not in ("valid", "same"):
        raise ValueError(f"{op}: padding must be an int, 'valid' or 'same', got {padding!r}")
    stride_1 = args["kernel_size"] if args["stride"] is None else args["stride"]
    pad_1 = args["padding"] if isinstance(args["padding"], str) else (0, args["padding"])
    x4 = x.reshape(shape[0], shape[1], 1, shape[2])
    try:
        y = max_pool2d(x4, (1, args["kernel_size"]), (1, stride_1), pad_1, (1, args["dilation"]), ceil_mode)
    except (ValueError, TypeError) as e:
        raise type(e)(f"{op} on input shape {shape} (pooled as (N, C, 1, L)): {e}") from None
    return y.reshape(shape[0], shape[1], y.shape[3])


def avg_pool2d(x, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=None):
    """Average pooling of NCHW ``x`` (PyTorch's ``avg_pool2d``), zeros as padding.
    ``count_include_pad``: whether padded zeros count in a window's divisor. None (the default)
    means PyTorch's True for int/pair padding and Keras's False (divide by the real elements)
    for padding='same'; an explicit True or False is honoured with either kind of padding."""
    op = "avg_pool2d"
    kernel = _pair(kernel_size, op, "kernel_size")
    stride = kernel if stride is None else _pair(stride, op, "stride")
    if not isinstance(ceil_mode, bool):
        raise TypeError(f"{op}: ceil_mode must be a bool, got {ceil_mode!r}")
    if count_include_pad is None:
        count_include_pad = not (isinstance(padding, str) and padding == "same")
    elif not isinstance(count_include_pad, bool):
        raise TypeError(f"{op}: count_include_pad must be a bool or None, got {count_include_pad!r}")
    pads = _pool_padding(x, padding, kernel, stride, (1, 1), op)
    return _C.avg_pool2d(x, kernel, stride, pads, ceil_mode, count_include_pad)


def global_max_pool2d(x, keepdims=False):
    """Max over H and W of NCHW ``x``: (N, C), or (N, C, 1, 1) with ``keepdims``; the gradient
    goes to each plane's first maximum."""
    return _C.global_max_pool2d(x, keepdims)


def global_avg_pool2d(x, keepdims=False):
    """Mean over H and W of NCHW ``x``: (N, C), or (N, C, 1, 1) with ``keepdims``."""
    return _C.global_avg_pool2d(x, keepdims)


# ---------------------------------------------------------------- normalisation (issue 8)
__all__ += ["batch_norm", "layer_norm", "group_norm"]


def _norm_number(value, op, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{op}: {name} must be a number, got {value!r}")
    return float(value)


def batch_norm(x, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation of ``x`` (N, C) or (N, C, *) per channel (axis 1), PyTorch's
    ``torch.nn.functional.batch_norm``:

    y = (x - mean) / sqrt(var + eps) * weight + bias, with ``weight`` / ``bias`` of shape (C,)
    or None (1 and 0).

    ``training=True``: mean and var are this batch's, over N and * (the biased variance, divided
    by the count M = N * prod(*)). If ``running_mean`` / ``running_var`` (shape (C,)) are given they
    are updated in place, outside the graph, with PyTorch's convention
    ``running = (1 - momentum) * running + momentum * batch``, the variance term being the
    unbiased M / (M - 1) * var; a batch with one value per channel is refused, as PyTorch does.
    ``training=False``: mean and var are ``running_mean`` and ``running_var`` (required).

    PyTorch's momentum (0.1, the weight of the new batch) is 1 minus Keras's (0.99, the weight of
    the old statistic): ``layers.BatchNormalization`` takes Keras's and uses the biased variance
    for its moving variance, as Keras does.
    """
    op = "batch_norm"
    if not isinstance(training, bool):
        raise TypeError(f"{op}: training must be a bool, got {training!r}")
    return _C.batch_norm(x, running_mean, running_var, weight, bias, training, _norm_number(momentum, op, "momentum"),
                         _norm_number(eps, op, "eps"), True)


def layer_norm(x, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Layer normalisation, PyTorch's ``torch.nn.functional.layer_norm``: each sample normalised
    over the trailing dims ``normalized_shape`` (an int or a tuple, equal to x's last dims),
    y = (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance and ``weight`` /
    ``bias`` of shape ``normalized_shape`` (elementwise) or None."""
    op = "layer_norm"
    if isinstance(normalized_shape, numbers.Integral) and not isinstance(normalized_shape, bool):
        normalized_shape = (int(normalized_shape),)
    if not isinstance(normalized_shape, (tuple, list)) or not all(
            isinstance(d, numbers.Integral) and not isinstance(d, bool) for d in normalized_shape):
        raise TypeError(f"{op}: normalized_shape must be an int or a tuple of ints, got {normalized_shape!r}")
    return _C.layer_norm(x, tuple(int(d) for d in normalized_shape), weight, bias, _norm_number(eps, op, "eps"))


def group_norm(x, num_groups, weight=None, bias=None, eps=1e-5):
    """Group normalisation, PyTorch's ``torch.nn.functional.group_norm``: the C channels of ``x``
    (N, C, *) split into ``num_groups`` groups of C / num_groups consecutive channels; each sample's
    group is normalised over its channels and * (biased variance), then y = xhat * weight[c] +
    bias[c] per channel (``weight`` / ``bias`` of shape (C,) or None). num_groups = C is instance
    normalisation; num_groups = 1 normalises each sample over all of (C, *)."""
    op = "group_norm"
    if isinstance(num_groups, bool) or not isinstance(num_groups, numbers.Integral):
        raise TypeError(f"{op}: num_groups must be an int, got {num_groups!r}")
    return _C.group_norm(x, int(num_groups), weight, bias, _norm_number(eps, op, "eps"))
# ---------------------------------------------------------------- transposed convolution, resampling (NCHW)
def _int_arg(value, op, name):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{op}: {name} must be an int, got {value!r}")
    return int(value)


def conv2d_transpose(x, weight, bias=None, stride=1, padding=0, output_padding=0, dilation=1, groups=1):
    """Transposed convolution (PyTorch's ``conv_transpose2d``; note pydl's argument order, the
    same as ``conv2d``'s: dilation before groups): the adjoint of ``conv2d`` with the same weight,
    stride, padding and dilation, so it maps conv2d's output shape back to its input shape.

    x (N, C_in, H, W); weight (C_in, C_out / groups, kh, kw); bias (C_out,) or None.
    stride, padding, output_padding, dilation: int or (h, w). padding crops that many rows/columns
    from both sides of the full output; output_padding (smaller than the stride or the dilation)
    adds rows/columns at the bottom/right. Returns (N, C_out, H_out, W_out) with
    H_out = (H - 1) * stride - 2 * padding + dilation * (kh - 1) + output_padding + 1.
    """
    op = "conv2d_transpose"
    stride = _pair(stride, op, "stride")
    dilation = _pair(dilation, op, "dilation")
    ph, pw = _pair(padding, op, "padding")
    output_padding = _pair(output_padding, op, "output_padding")
    return _C.conv2d_transpose(x, weight, bias, stride, (ph, ph, pw, pw), output_padding, dilation,
                               _int_arg(groups, op, "groups"))


def upsample2d(x, size=None, scale_factor=None, mode="nearest", align_corners=False):
    """Upsample (or resize) NCHW ``x``, PyTorch's ``F.interpolate`` for 4-D input.

    Give exactly one of ``size`` (int or (h, w): the output size) and ``scale_factor`` (number or
    (h, w): output size floor(in * scale_factor); the map uses the factor itself, as PyTorch).
    mode 'nearest': output i copies input floor(i / scale_factor) (floor(i * in / out) from a size);
    'bilinear': blends the 2x2 nearest inputs; ``align_corners`` (bilinear only) lines up the corner
    pixels' centres instead of the pixels' areas.
    """
    op = "upsample2d"
    if not isinstance(x, _C.Tensor):
        raise TypeError(f"{op}: x must be a pydl tensor, got {type(x).__name__}")
    if x.dim() != 4:
        raise ValueError(f"{op}: expected a 4-D input (N, C, H, W), got shape {tuple(x.shape)}")
    if not isinstance(mode, str):
        raise TypeError(f"{op}: mode must be 'nearest' or 'bilinear', got {mode!r}")
    if not isinstance(align_corners, bool):
        raise TypeError(f"{op}: align_corners must be a bool, got {align_corners!r}")
    if (size is None) == (scale_factor is None):
        raise ValueError(f"{op}: give exactly one of size and scale_factor, got size={size!r}, "
                         f"scale_factor={scale_factor!r}")
    h, w = x.shape[2], x.shape[3]
    if size is not None:
        out = _pair(size, op, "size")
        scale = (0.0, 0.0)
    else:
        def is_num(v):
            return isinstance(v, numbers.Real) and not isinstance(v, bool)
        if is_num(scale_factor):
            scale = (float(scale_factor), float(scale_factor))
        elif isinstance(scale_factor, (tuple, list)) and len(scale_factor) == 2 and all(map(is_num, scale_factor)):
            scale = (float(scale_factor[0]), float(scale_factor[1]))
        else:
            raise TypeError(f"{op}: scale_factor must be a number or a pair of numbers (h, w), got {scale_factor!r}")
        if not all(s > 0 and s < float("inf") for s in scale):
            raise ValueError(f"{op}: scale_factor must be positive and finite, got {scale_factor!r}")
        out = (int(h * scale[0]), int(w * scale[1]))  # floor, as PyTorch
        if min(out) < 1:
            raise ValueError(f"{op}: scale_factor {scale_factor!r} gives an empty output {out} for input shape "
                             f"{tuple(x.shape)}")
    return _C.upsample2d(x, out, scale, mode, align_corners)


def pad2d(x, padding, mode="zeros"):
    """Pad the height and width of NCHW ``x``: ``padding`` an int (every side) or
    (left, right, top, bottom) as PyTorch's ``F.pad``; mode 'zeros' or 'reflect' (mirrored about
    the edge pixel, which is not repeated: each pad smaller than that axis)."""
    op = "pad2d"
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if is_int(padding):
        pads = (int(padding),) * 4
    elif isinstance(padding, (tuple, list)) and len(padding) == 4 and all(map(is_int, padding)):
        pads = tuple(int(p) for p in padding)
    else:
        raise TypeError(f"{op}: padding must be an int or (left, right, top, bottom) ints, got {padding!r}")
    if not isinstance(mode, str):
        raise TypeError(f"{op}: mode must be 'zeros' or 'reflect', got {mode!r}")
    return _C.pad2d(x, pads, mode)


# ---------------------------------------------------------------- recurrent, fused over time (issue 9)
_RNN_ACTIVATIONS = ("tanh", "sigmoid", "relu", "linear")


def _rnn_activation(value, op, name):
    if value is None:
        return "linear"
    if not isinstance(value, str) or value not in _RNN_ACTIVATIONS:
        raise ValueError(f"{op}: {name} must be one of {', '.join(repr(a) for a in _RNN_ACTIVATIONS)} "
                         f"(or None for linear), got {value!r}")
    return value


def _rnn_flag(value, op, name):
    if type(value).__name__ not in ("bool", "bool_"):  # a Python or NumPy bool
        raise TypeError(f"{op}: {name} must be a bool, got {value!r}")
    return bool(value)


def _rnn_const_dtype(x):
    from . import Tensor
    if isinstance(x, Tensor):
        return x.dtype
    kind = str(np.asarray(x).dtype)
    return kind if kind in ("float32", "float64") else None


def _rnn_mask(mask, x, op):
    """A (batch, time) mask (bool or 0/1; NumPy, list or Tensor) -> a Tensor of x's dtype holding 0 / 1;
    None stays None. Other values are refused; the C++ op checks the shape."""
    if mask is None:
        return None
    from . import Tensor, as_tensor
    m = mask.detach().numpy() if isinstance(mask, Tensor) else np.asarray(mask)
    if m.dtype != np.bool_:
        if m.dtype.kind not in "iuf":
            raise TypeError(f"{op}: the mask must be bool or 0/1 numbers, got dtype {m.dtype}")
        if m.size and not np.all((m == 0) | (m == 1)):
            raise ValueError(f"{op}: the mask must hold only True/False or 0/1, got values "
                             f"{np.unique(m)[:6].tolist()}")
    return as_tensor(np.ascontiguousarray(m, dtype=np.float64), dtype=_rnn_const_dtype(x))


def _rnn_dropout(rdrop, x, op):
    """The recurrent dropout masks as a constant of x's dtype (no gradient flows to them)."""
    if rdrop is None:
        return None
    from . import Tensor, as_tensor
    if isinstance(rdrop, Tensor):
        rdrop = rdrop.detach()
        dtype = _rnn_const_dtype(x)
        return rdrop if dtype is None or rdrop.dtype == dtype else rdrop.to(dtype)
    return as_tensor(np.ascontiguousarray(rdrop, dtype=np.float64), dtype=_rnn_const_dtype(x))


def simple_rnn(x, kernel, recurrent_kernel, bias=None, initial_state=None, activation="tanh", go_backwards=False,
               mask=None, recurrent_dropout=None, zero_output_for_mask=False, return_sequences=True):
    """A SimpleRNN over the whole sequence ``x`` (batch, time, features), one C++ op:

    h_s = activation(x_t kernel + h_{s-1} recurrent_kernel + bias),  h_{-1} = initial_state (or 0),

    with ``t = s`` (or ``T - 1 - s`` with ``go_backwards``, and the sequence returned in that
    processing order, as Keras). Weights as Keras: kernel (in, u), recurrent_kernel (u, u), bias (u,)
    or None. Returns ``(sequence (batch, time, u), last h (batch, u))``; its backward is full
    backpropagation through time (a loss on the last h alone trains every step).

    ``mask`` (batch, time), bool or 0/1, True = keep (Keras's): at a masked step the state carries
    through unchanged (h_s = h_{s-1}) and the sequence holds that carried state (Keras's default, as
    its JAX / NumPy backends compute it; its TensorFlow backend writes 0 before a sample's first kept
    step, which differs only with a non-zero initial state), or zeros with
    ``zero_output_for_mask=True``; the mask is indexed by input time, so with
    ``go_backwards`` it is reversed with the sequence. ``recurrent_dropout`` (batch, u), already
    scaled by 1/(1-p): h_{s-1} * recurrent_dropout replaces h_{s-1} in the product with
    recurrent_kernel, the same at every step (no gradient flows to it).

    ``return_sequences=False``: the sequence output is None (only the last state is wanted, as a
    Keras layer without return_sequences); inference then never keeps the steps' states.
    """
    op = "simple_rnn"
    return tuple(_C.simple_rnn(x, kernel, recurrent_kernel, bias, initial_state, _rnn_activation(activation, op, "activation"),
                               _rnn_flag(go_backwards, op, "go_backwards"), _rnn_mask(mask, x, op),
                               _rnn_dropout(recurrent_dropout, x, op),
                               _rnn_flag(zero_output_for_mask, op, "zero_output_for_mask"),
                               _rnn_flag(return_sequences, op, "return_sequences")))


def lstm(x, kernel, recurrent_kernel, bias=None, initial_state=None, activation="tanh",
         recurrent_activation="sigmoid", go_backwards=False, mask=None, recurrent_dropout=None,
         zero_output_for_mask=False, return_sequences=True):
    """An LSTM over ``x`` (batch, time, features), Keras's equations and gate order i, f, c, o:

    i = ra(x W_i + h U_i + b_i), f = ra(x W_f + h U_f + b_f), g = a(x W_c + h U_c + b_c),
    o = ra(x W_o + h U_o + b_o);  c_s = f * c_{s-1} + i * g;  h_s = o * a(c_s)

    (a = activation, ra = recurrent_activation). kernel (in, 4u), recurrent_kernel (u, 4u), bias
    (4u,) or None; ``initial_state`` None or ``(h0, c0)``, each (batch, u). Returns
    ``(sequence, last h, last c)``.

    ``mask``, ``zero_output_for_mask``, ``return_sequences`` as in ``simple_rnn`` (a masked step
    carries h and c).
    ``recurrent_dropout`` (batch, 4u): one scaled mask per gate in the order i, f, c, o, as Keras's
    LSTMCell (implementation 1): gate q uses (h_{s-1} * m_q) U_q; c_{s-1} is not dropped.
    """
    op = "lstm"
    h0 = c0 = None
    if initial_state is not None:
        if not isinstance(initial_state, (list, tuple)) or len(initial_state) != 2:
            raise ValueError(f"{op}: initial_state must be a pair (h0, c0), got {type(initial_state).__name__}"
                             + (f" of length {len(initial_state)}" if isinstance(initial_state, (list, tuple)) else ""))
        h0, c0 = initial_state
        if h0 is None or c0 is None:
            raise ValueError(f"{op}: initial_state needs both h0 and c0, got None for "
                             f"{'h0' if h0 is None else 'c0'}")
    return tuple(_C.lstm(x, kernel, recurrent_kernel, bias, h0, c0, _rnn_activation(activation, op, "activation"),
                         _rnn_activation(recurrent_activation, op, "recurrent_activation"),
                         _rnn_flag(go_backwards, op, "go_backwards"), _rnn_mask(mask, x, op),
                         _rnn_dropout(recurrent_dropout, x, op),
                         _rnn_flag(zero_output_for_mask, op, "zero_output_for_mask"),
                         _rnn_flag(return_sequences, op, "return_sequences")))


def gru(x, kernel, recurrent_kernel, bias=None, initial_state=None, activation="tanh",
        recurrent_activation="sigmoid", go_backwards=False, mask=None, recurrent_dropout=None,
        zero_output_for_mask=False, return_sequences=True):
    """A GRU over ``x`` (batch, time, features) as Keras 3's default (reset_after=True), gates
    z (update), r (reset), h (candidate):

    z = ra(x W_z + b_z + h U_z + b_rz),  r = ra(x W_r + b_r + h U_r + b_rr),
    hh = a(x W_h + b_h + r * (h U_h + b_rh)),  h_s = z * h_{s-1} + (1 - z) * hh

    kernel (in, 3u), recurrent_kernel (u, 3u), bias (2, 3u) = [input bias; recurrent bias] or None.
    Returns ``(sequence, last h)``.

    ``mask``, ``zero_output_for_mask``, ``return_sequences`` as in ``simple_rnn``.
    ``recurrent_dropout`` (batch, 3u): one
    scaled mask per gate z, r, h, as Keras's GRUCell (implementation 1): (h_{s-1} * m_z) U_z,
    (h_{s-1} * m_r) U_r, (h_{s-1} * m_h) U_h; the update z * h_{s-1} uses the undropped h_{s-1}.
    """
    op = "gru"
    return tuple(_C.gru(x, kernel, recurrent_kernel, bias, initial_state, _rnn_activation(activation, op, "activation"),
                        _rnn_activation(recurrent_activation, op, "recurrent_activation"),
                        _rnn_flag(go_backwards, op, "go_backwards"), _rnn_mask(mask, x, op),
                        _rnn_dropout(recurrent_dropout, x, op),
                        _rnn_flag(zero_output_for_mask, op, "zero_output_for_mask"),
                        _rnn_flag(return_sequences, op, "return_sequences")))
