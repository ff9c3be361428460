"""Datasets in the Keras shape: ``(x_train, y_train), (x_test, y_test) = mnist.load_data()``.

- :mod:`~pydl.datasets.mnist`: handwritten digits, 28x28 uint8 (IDX files, downloaded once).
- :mod:`~pydl.datasets.fashion_mnist`: Zalando clothing images, same shapes as MNIST.
- :mod:`~pydl.datasets.digits`: scikit-learn's 8x8 digits, offline (needs scikit-learn).
- :mod:`~pydl.datasets.movielens`: rating files (u.data / ratings.csv) to a user-by-item matrix.

Files are looked up in ``path=``, then ``$PYDL_DATA/<name>/``, then ``~/.pydl/datasets/<name>/``.
"""

from . import digits, fashion_mnist, mnist, movielens
from .course import load_mnist_or_digits
from ._download import ChecksumError, DownloadError
from ._idx import IDXFormatError, read_idx

__all__ = ["mnist", "fashion_mnist", "digits", "movielens", "load_mnist_or_digits", "read_idx", "IDXFormatError", "DownloadError", "ChecksumError"]
