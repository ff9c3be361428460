"""Small array helpers for preparing data, with Keras's names and semantics.

- :func:`to_categorical`: integer labels -> one-hot rows.
- :func:`normalize`: divide by the Lp norm along an axis.
- :func:`scale_to_unit`: uint8 pixels 0..255 -> float32 0..1.
- :func:`split_validation`: hold out a validation fraction, the way ``fit(validation_split=)``
  does (the last rows), or a seeded random subset.
"""

import math
import numbers

import numpy as np


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer class labels, as ``keras.utils.to_categorical`` does.

    y: integer labels of any shape; a trailing axis of length 1 is dropped, so (N,) and
    (N, 1) both give (N, num_classes). Floats holding whole numbers are accepted.
    num_classes: defaults to ``max(y) + 1``.

    Raises ValueError for negative or non-integer labels and for labels >= num_classes
    (Keras would silently wrap negatives or fail with an IndexError).
    """
    y = np.asarray(y)
    if y.dtype == np.bool_ or not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"to_categorical: labels must be integers, got dtype {y.dtype}")
    if np.issubdtype(y.dtype, np.floating):
        if not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            bad = y[~np.isfinite(y) | (y != np.round(y))].ravel()[0]
            raise ValueError(f"to_categorical: labels must be whole numbers, found {bad}")
    if y.ndim > 1 and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.size and y.min() < 0:
        raise ValueError(f"to_categorical: labels must be >= 0, found {y.min()}")
    if num_classes is None:
        if y.size == 0:
            raise ValueError("to_categorical: cannot infer num_classes from empty labels; pass num_classes")
        num_classes = int(y.max()) + 1
    if not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"to_categorical: num_classes must be a positive integer, got {num_classes!r}")
    if y.size and y.max() >= num_classes:
        raise ValueError(
            f"to_categorical: label {y.max()} is out of range for num_classes={num_classes} "
            f"(labels must be 0..{num_classes - 1})"
        )
    labels = y.astype(np.int64).ravel()
    out = np.zeros((labels.size, num_classes), dtype=dtype)
    out[np.arange(labels.size), labels] = 1
    return out.reshape(y.shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """Divide ``x`` by its ``order``-norm along ``axis``, as ``keras.utils.normalize`` does.

    Slices whose norm is zero are left as they are (divided by 1). ``order`` is any vector
    norm order ``numpy.linalg.norm`` accepts (1, 2, ``np.inf``, ...). Float inputs keep
    their dtype; integer inputs give float64.
    """
    x = np.asarray(x)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm


def scale_to_unit(x):
    """uint8 pixels 0..255 -> float32 in [0, 1]: ``x.astype('float32') / 255``.

    Any other dtype is an error rather than a silent no-op, because scaling float pixels
    a second time (dividing by 255 twice) is a classic bug that still trains, badly.
    """
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise TypeError(
            f"scale_to_unit expects uint8 pixels (0..255), got {x.dtype}; "
            "float data is presumably scaled already"
        )
    return x.astype(np.float32) / np.float32(255)


def split_validation(x, y=None, validation_split=0.2, seed=None):
    """Split ``(x, y)`` into ``(x_train, y_train), (x_val, y_val)``.

    The validation set has ``n - floor(n * (1 - validation_split))`` rows. With
    ``seed=None`` they are the *last* rows, unshuffled: exactly what Keras's
    ``fit(validation_split=...)`` holds out, so shuffle first if your data is ordered. With a
    seed (int or ``numpy.random.Generator``) they are a seeded random subset, and both parts
    keep the original row order.

    x and y may be arrays or lists/tuples of arrays (several inputs or outputs); y may be
    None (then ``y_train`` and ``y_val`` are None).
    """
    if isinstance(validation_split, bool) or not isinstance(validation_split, numbers.Real) \
            or not 0.0 < validation_split < 1.0:
        raise ValueError(f"split_validation: validation_split must be in (0, 1), got {validation_split!r}")
    arrays = _flatten(x) + (_flatten(y) if y is not None else [])
    n = len(arrays[0])
    for a in arrays[1:]:
        if len(a) != n:
            raise ValueError(
                f"split_validation: all arrays need the same number of rows; got {n} and {len(a)}"
            )
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"split_validation: validation_split={validation_split} of {n} rows leaves "
            f"{split_at} training and {n - split_at} validation rows; both must be non-empty"
        )
    if seed is None:
        train_idx, val_idx = slice(0, split_at), slice(split_at, n)
    else:
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        order = rng.permutation(n)
        train_idx, val_idx = np.sort(order[:split_at]), np.sort(order[split_at:])

    def take(data, idx):
        if data is None:
            return None
        if isinstance(data, (list, tuple)):
            return type(data)(np.asarray(a)[idx] for a in data)
        return np.asarray(data)[idx]

    return (take(x, train_idx), take(y, train_idx)), (take(x, val_idx), take(y, val_idx))


def _flatten(data):
    if isinstance(data, (list, tuple)):
        return [np.asarray(a) for a in data]
    return [np.asarray(data)]
