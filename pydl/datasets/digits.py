"""scikit-learn's bundled 8x8 handwritten digits (1,797 images), split like the Keras datasets.

A small, offline stand-in for MNIST: the data ship inside scikit-learn, so nothing is
downloaded. scikit-learn is an optional dependency (``pip install pydl[datasets]``).
"""

import math

import numpy as np

NAME = "digits"


def load_data(test_split=0.2, seed=0):
    """Load the digits as ``(x_train, y_train), (x_test, y_test)``.

    x: uint8 arrays of shape (N, 8, 8) with values 0..16 (each pixel counts the set cells
    of a 4x4 block of the original 32x32 bitmap), so scale with ``x / 16.0``, not 255;
    y: uint8 arrays of shape (N,), digits 0..9.

    The split is a seeded shuffle: ``ceil(test_split * 1797)`` images go to the test set
    (as in scikit-learn's ``train_test_split``); the same ``seed`` gives the same split.
    """
    if not 0.0 <= test_split < 1.0:
        raise ValueError(f"digits.load_data: test_split must be in [0, 1), got {test_split}")
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:
        raise ImportError(
            "pydl.datasets.digits needs scikit-learn, which ships these digits: "
            "pip install scikit-learn (or pip install pydl[datasets])"
        ) from e
    bunch = load_digits()
    x = bunch.images.astype(np.uint8)  # the values are integers 0..16 stored as float64
    y = bunch.target.astype(np.uint8)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = math.ceil(test_split * len(x))
    test, train = order[:n_test], order[n_test:]
    return (x[train], y[train]), (x[test], y[test])
