"""The course examples' data: MNIST when it is there, else scikit-learn's 8x8 digits."""
import numpy as np

from ..utils.data_utils import to_categorical


def load_mnist_or_digits(verbose=True, images=False):
    """``(name, x_train, y_train, x_test, y_test)``: flat float32 images scaled to [0, 1] and
    one-hot labels (10 classes). MNIST is read (or downloaded) as ``mnist.load_data`` does;
    when it cannot be had, the 8x8 digits are used instead, saying so when ``verbose``.
    ``images=True``: the images as NCHW batches, (N, 1, 28, 28) or (N, 1, 8, 8), for a CNN."""
    from . import digits, mnist
    try:
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
        name, scale = "MNIST", 255.0
    except (OSError, ValueError) as e:
        if verbose:
            print(f"MNIST is unavailable ({str(e).splitlines()[0]});\n  using scikit-learn's 8x8 digits instead.")
        (x_train, y_train), (x_test, y_test) = digits.load_data()
        name, scale = "digits", 16.0
    shape = (1,) + x_train.shape[1:] if images else (-1,)
    x_train = x_train.reshape((len(x_train),) + shape).astype(np.float32) / scale
    x_test = x_test.reshape((len(x_test),) + shape).astype(np.float32) / scale
    return name, x_train, to_categorical(y_train, 10), x_test, to_categorical(y_test, 10)
