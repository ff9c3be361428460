"""Functional forms of the layers' maths (``pydl.functional.relu(x)``), one C++ op each."""
from ._C import (  # noqa: F401
    linear, relu, leaky_relu, elu, sigmoid, tanh, softmax, log_softmax,
    dropout,
)
from . import _C

__all__ = ["linear", "relu", "leaky_relu", "elu", "sigmoid", "tanh", "softmax", "log_softmax", "dropout",
           "max_pool1d", "max_pool2d", "avg_pool2d", "global_max_pool2d", "global_avg_pool2d"]


# ---------------------------------------------------------------- pooling (NCHW)
def _pair(value, op, name):
    """An int or a pair of ints -> (h, w); anything else a TypeError naming the op and argument."""
    if isinstance(value, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (tuple, list)) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return (int(value[0]), int(value[1]))
    raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {value!r}")


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
                out = -(-n // s)
                total = max((out - 1) * s + (k - 1) * d + 1 - n, 0)
                pads += [total // 2, total - total // 2]
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
