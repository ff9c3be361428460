"""The data pipeline behind ``model.fit``: batching (Cython kernels with a NumPy fallback)."""

from .batching import HAVE_CYTHON, BatchIterator, NumpyKernels, get_kernels

__all__ = ["BatchIterator", "HAVE_CYTHON", "NumpyKernels", "get_kernels"]
