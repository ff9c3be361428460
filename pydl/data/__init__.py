"""The data pipeline behind ``model.fit``: batching and augmentation (Cython kernels with NumPy
fallbacks), and batch sources (generators, ``Sequence``)."""

from .batching import HAVE_CYTHON, BatchIterator, NumpyKernels, get_kernels
from . import augment  # noqa: F401  (augmentation kernels and the Augment batch transform)
from .augment import Augment  # noqa: F401
from .sequence import Sequence, PyDataset  # noqa: F401  (batches from a class; generators, see sequence.py)

__all__ = ["BatchIterator", "HAVE_CYTHON", "NumpyKernels", "get_kernels", "augment", "Augment", "Sequence", "PyDataset"]
