"""The data pipeline behind ``model.fit``: batching and augmentation (Cython kernels with NumPy fallbacks)."""

from .batching import HAVE_CYTHON, BatchIterator, NumpyKernels, get_kernels
from . import augment  # noqa: F401  (augmentation kernels and the Augment batch transform)
from .augment import Augment  # noqa: F401

__all__ = ["BatchIterator", "HAVE_CYTHON", "NumpyKernels", "get_kernels", "augment", "Augment"]
