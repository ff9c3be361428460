"""pydl: an educational deep-learning framework.

A readable C++ core (tensors, autograd, kernels; ``pydl._C``) under a thin Python layer.
The tensor API follows PyTorch's words (``requires_grad``, ``.backward()``, ``no_grad()``);
the model API follows Keras (``Sequential``, ``Dense``, ``compile/fit``).

    >>> import pydl
    >>> w = pydl.tensor([1.0, 2.0], requires_grad=True)
    >>> (w * w).sum().backward()
    >>> w.grad
    tensor([2., 4.], shape=(2,), dtype=float32)
"""
import os as _os
# OpenMP threads that finish early spin while they wait for the next parallel region; libgomp's
# default spins for about 300 000 rounds. On a machine shared with other busy work (CI, a second
# run, a build) the spinning threads take the cores from the ones computing: a CNN training step
# measured 2049-2893 ms with the default, 213-281 ms with 10 000 rounds and 90-114 ms with none
# (OMP_WAIT_POLICY=PASSIVE), while on a quiet machine 10 000 rounds cost 0-3% against the default
# and PASSIVE 15% (the CNN) to 90% (a small MLP's many short regions). pydl therefore shortens
# the spin to 10 000 rounds unless you chose a policy yourself (OMP_WAIT_POLICY or GOMP_SPINCOUNT
# set before importing pydl). It must be set before the OpenMP runtime loads, i.e. before _C.
if "OMP_WAIT_POLICY" not in _os.environ and "GOMP_SPINCOUNT" not in _os.environ:
    _os.environ["GOMP_SPINCOUNT"] = "10000"
del _os
from ._source_tree import use_installed_core as _use_installed_core
_use_installed_core(__path__[0])  # run from a source checkout: borrow an install's compiled core
from . import _C
from . import _boundary
_boundary.install()  # before the names below are taken from _C: op-named argument errors, NumPy protocols
from ._C import (  # noqa: F401  (re-exported API)
    Tensor, Node, dtype, float32, float64,
    tensor, from_numpy, zeros, ones, empty, full, arange, eye, rand, randn, uniform, normal, bernoulli,
    add, sub, mul, div, pow, maximum, minimum, eq, ne, lt, le, gt, ge, matmul,
    neg, exp, log, sqrt, abs, square, clip, where,
    sum, mean, max, min, var,
    reshape, transpose, permute, flatten, squeeze, unsqueeze, broadcast_to, concatenate, stack,
    manual_seed, initial_seed, set_backend, get_backend, set_num_threads, get_num_threads,
    is_grad_enabled,
)
# issue 9, int64: token ids and labels, integer indexing (t[idx] too), int64-valued reductions
from ._C import int64, take, gather, argmax, argmin  # noqa: F401,E402
from .autograd import no_grad, enable_grad, set_grad_enabled, backward, GradientTape  # noqa: F401
from . import _tensor_repr  # noqa: F401  (installs Tensor.__repr__)
from . import _tensor_copy  # noqa: F401  (installs copy.copy, copy.deepcopy and pickling of Tensor)
from . import functional  # noqa: F401
from . import utils  # noqa: F401
from . import (  # noqa: F401  (the Keras-style API)
    activations, initializers, regularizers, losses, metrics, optimizers, schedules, callbacks, layers, models,
    datasets, saving, kernels,
)

# the functional API's entry points, as keras.Input and keras.Model
from .layers import Input  # noqa: F401,E402
from .models import Model, Sequential  # noqa: F401,E402

__version__ = _C._build_info()["version"]


def as_tensor(data, dtype=None):
    """``data`` as a Tensor: a Tensor is returned as is (cast if ``dtype`` differs), a
    float32/float64 NumPy array is shared without a copy where its layout allows (a reversed,
    self-overlapping or byte-swapped one is copied), anything else is copied."""
    import numpy as np
    if isinstance(data, Tensor):
        return data if dtype is None or data.dtype == dtype else data.to(dtype)
    if isinstance(data, np.ndarray) and data.dtype in (np.float32, np.float64):
        t = _C._from_numpy_or_copy(data)
        return t if dtype is None else t.to(dtype)
    return tensor(data, dtype=dtype)


def zeros_like(t, dtype=None):
    return zeros(*t.shape, dtype=dtype or t.dtype)


def ones_like(t, dtype=None):
    return ones(*t.shape, dtype=dtype or t.dtype)
