"""The course's named image kernels (deck 002's table), as arrays to look at or load into a Conv2D.

    >>> import pydl
    >>> pydl.kernels.SHARPEN
    array([[ 0., -1.,  0.],
           [-1.,  5., -1.],
           [ 0., -1.,  0.]], dtype=float32)
    >>> model = pydl.models.Sequential([pydl.layers.Conv2D(3, 3, padding="same", use_bias=False,
    ...                                                     input_shape=(1, 28, 28))])
    >>> model.layers[0].set_weights([pydl.kernels.stack(["identity", "sharpen", "box_blur"])])

Every kernel is a float32 (kh, kw) array. Convolution in pydl (as in every framework) is
cross-correlation: the kernel is not flipped. The kernels below are symmetric under a 180-degree
turn, so they give the same picture either way, except ``EDGE_DIAGONAL``, whose sign flips
under a mirror image only.

| name | kernel | what it does |
|---|---|---|
| identity | 1 at the centre | copies the image |
| edge_diagonal | [[1,0,-1],[0,0,0],[-1,0,1]] | responds to diagonal changes |
| edge_laplacian_4 | [[0,1,0],[1,-4,1],[0,1,0]] | edges in the 4 axis directions |
| edge_laplacian_8 | [[-1,-1,-1],[-1,8,-1],[-1,-1,-1]] | edges in all 8 directions |
| sharpen | [[0,-1,0],[-1,5,-1],[0,-1,0]] | identity + laplacian: stronger edges |
| box_blur | ones / 9 | mean of the 3x3 neighbourhood |
| gaussian_blur_3x3 | [[1,2,1],[2,4,2],[1,2,1]] / 16 | a weighted blur |
| gaussian_blur_5x5 | binomial (1,4,6,4,1) outer itself / 256 | a wider blur |
| unsharp_5x5 | 2 * identity - gaussian_blur_5x5 | image + (image - blur): sharpening |
"""
import numpy as np

__all__ = ["IDENTITY", "EDGE_DIAGONAL", "EDGE_LAPLACIAN_4", "EDGE_LAPLACIAN_8", "SHARPEN", "BOX_BLUR",
           "GAUSSIAN_BLUR_3X3", "GAUSSIAN_BLUR_5X5", "UNSHARP_5X5", "KERNELS", "get", "stack"]


def _frozen(rows, scale=1.0):
    a = np.asarray(rows, dtype=np.float64) * scale
    a = a.astype(np.float32)
    a.setflags(write=False)  # a shared constant: copy it (get() does) before changing it
    return a


_BINOMIAL_5 = np.array([1, 4, 6, 4, 1], dtype=np.float64)

IDENTITY = _frozen([[0, 0, 0], [0, 1, 0], [0, 0, 0]])
EDGE_DIAGONAL = _frozen([[1, 0, -1], [0, 0, 0], [-1, 0, 1]])
EDGE_LAPLACIAN_4 = _frozen([[0, 1, 0], [1, -4, 1], [0, 1, 0]])
EDGE_LAPLACIAN_8 = _frozen([[-1, -1, -1], [-1, 8, -1], [-1, -1, -1]])
SHARPEN = _frozen([[0, -1, 0], [-1, 5, -1], [0, -1, 0]])
BOX_BLUR = _frozen(np.ones((3, 3)), 1 / 9)
GAUSSIAN_BLUR_3X3 = _frozen([[1, 2, 1], [2, 4, 2], [1, 2, 1]], 1 / 16)
GAUSSIAN_BLUR_5X5 = _frozen(np.outer(_BINOMIAL_5, _BINOMIAL_5), 1 / 256)
# The deck writes it as -1/256 times the binomial kernel with -476 at the centre: the same
# numbers as 2 * identity - gaussian (centre (512 - 36) / 256 = 476 / 256).
_unsharp = -np.outer(_BINOMIAL_5, _BINOMIAL_5)
_unsharp[2, 2] = 476
UNSHARP_5X5 = _frozen(_unsharp, 1 / 256)
del _unsharp

KERNELS = {
    "identity": IDENTITY,
    "edge_diagonal": EDGE_DIAGONAL,
    "edge_laplacian_4": EDGE_LAPLACIAN_4,
    "edge_laplacian_8": EDGE_LAPLACIAN_8,
    "sharpen": SHARPEN,
    "box_blur": BOX_BLUR,
    "gaussian_blur_3x3": GAUSSIAN_BLUR_3X3,
    "gaussian_blur_5x5": GAUSSIAN_BLUR_5X5,
    "unsharp_5x5": UNSHARP_5X5,
}


def get(name):
    """A writable copy of the kernel called ``name`` (any case; see ``KERNELS`` for the names)."""
    if not isinstance(name, str):
        raise TypeError(f"pydl.kernels.get: give a kernel name, got {name!r}")
    key = name.lower()
    if key not in KERNELS:
        raise ValueError(f"pydl.kernels.get: unknown kernel {name!r}. Valid names: {', '.join(KERNELS)}")
    return KERNELS[key].copy()


def stack(kernels, in_channels=1):
    """Kernels (names or 2-D arrays, all one size) as a Conv2D weight of shape
    (len(kernels), in_channels, kh, kw): filter i applies kernel i to every input channel and sums
    (so for an RGB image pass in_channels=3 and each filter sees the three channels added up).
    Load it with ``conv.set_weights([w])`` (``use_bias=False``) or ``[w, np.zeros(len(kernels))]``."""
    if isinstance(kernels, (str, np.ndarray)):
        kernels = [kernels]
    arrays = [get(k) if isinstance(k, str) else np.asarray(k, dtype=np.float32) for k in kernels]
    if not arrays:
        raise ValueError("pydl.kernels.stack: no kernels given")
    shapes = {a.shape for a in arrays}
    if any(a.ndim != 2 for a in arrays) or len(shapes) != 1:
        raise ValueError(f"pydl.kernels.stack: kernels must be 2-D and of one size, got shapes "
                         f"{[a.shape for a in arrays]}")
    if isinstance(in_channels, bool) or not isinstance(in_channels, (int, np.integer)) or in_channels < 1:
        raise ValueError(f"pydl.kernels.stack: in_channels must be a positive int, got {in_channels!r}")
    w = np.stack(arrays)[:, None, :, :]
    return np.ascontiguousarray(np.repeat(w, int(in_channels), axis=1))
