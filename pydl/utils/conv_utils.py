"""Convolution arithmetic: how big a feature map comes out (deck 002's and 003's grids)."""
import numbers


def _ints(value, rank, name):
    def is_int(v):
        return isinstance(v, numbers.Integral) and not isinstance(v, bool)
    if is_int(value):
        return (int(value),) * rank
    if isinstance(value, (tuple, list)) and len(value) == rank and all(is_int(v) for v in value):
        return tuple(int(v) for v in value)
    raise TypeError(f"conv_output_shape: {name} must be an int or {rank} ints, got {value!r}")


def conv_output_shape(input_shape, kernel_size, strides=1, padding="valid", dilation_rate=1, ceil_mode=False):
    """The spatial output size of a convolution or pooling window sliding over ``input_shape``.

    input_shape: the spatial sizes, e.g. (6, 6) for the slides' 6x6 image or 28 for one axis.
    kernel_size, strides, dilation_rate: an int or one int per axis.
    padding: 'valid' (no padding), 'same' (ceil(size / stride) positions, as Keras), 'causal'
    (1-D only: dilation * (k - 1) zeros on the left), or an int / one int per axis of zeros added
    on both sides (PyTorch's padding).
    ceil_mode: round up instead of down (pooling's ceil_mode; a window must start inside the input
    or its left padding).

    Per axis: out = floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1.

        >>> conv_output_shape((6, 6), 3)              # the 6x6 image, a 3x3 filter, stride 1
        (4, 4)
        >>> conv_output_shape((6, 6), 3, strides=2)
        (2, 2)
        >>> conv_output_shape((28, 28), 3, padding="same")
        (28, 28)
    """
    scalar = isinstance(input_shape, numbers.Integral) and not isinstance(input_shape, bool)
    sizes = (int(input_shape),) if scalar else None
    if sizes is None:
        if not isinstance(input_shape, (tuple, list)) or not input_shape:
            raise TypeError(f"conv_output_shape: input_shape must be an int or a tuple of ints, got {input_shape!r}")
        sizes = _ints(tuple(input_shape), len(input_shape), "input_shape")
    rank = len(sizes)
    kernel = _ints(kernel_size, rank, "kernel_size")
    stride = _ints(strides, rank, "strides")
    dilation = _ints(dilation_rate, rank, "dilation_rate")
    for name, vals in (("input_shape", sizes), ("kernel_size", kernel), ("strides", stride),
                       ("dilation_rate", dilation)):
        if min(vals) < 1:
            raise ValueError(f"conv_output_shape: {name} must be positive, got {vals}")
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "same":
            out = tuple(-(-n // s) for n, s in zip(sizes, stride))
            return out[0] if scalar else out
        if mode == "causal":
            if rank != 1:
                raise ValueError(f"conv_output_shape: padding='causal' is for 1-D inputs, got input_shape {sizes}")
            pads = [(dilation[0] * (kernel[0] - 1), 0)]
        elif mode == "valid":
            pads = [(0, 0)] * rank
        else:
            raise ValueError(f"conv_output_shape: padding must be 'valid', 'same', 'causal' or ints, got {padding!r}")
    else:
        pads = [(p, p) for p in _ints(padding, rank, "padding")]
        if any(p < 0 for p, _ in pads):
            raise ValueError(f"conv_output_shape: padding must not be negative, got {padding!r}")
    out = []
    for n, k, s, d, (lo, hi) in zip(sizes, kernel, stride, dilation, pads):
        span = d * (k - 1) + 1
        room = n + lo + hi - span
        if room < 0:
            raise ValueError(f"conv_output_shape: a window of {span} (kernel {k}, dilation {d}) does not fit in "
                             f"size {n} padded by ({lo}, {hi})")
        positions = (-(-room // s) if ceil_mode else room // s) + 1
        if ceil_mode and (positions - 1) * s >= n + lo:
            positions -= 1  # the last window would start in the right padding
        out.append(positions)
    return out[0] if scalar else tuple(out)
