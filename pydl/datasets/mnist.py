"""MNIST handwritten digits: 60,000 training and 10,000 test images, 28x28 grayscale.

LeCun, Cortes and Burges, http://yann.lecun.com/exdb/mnist/ (usually redistributed under
CC BY-SA 3.0). ``load_data`` returns what ``keras.datasets.mnist.load_data`` returns.
"""

from . import _download, _idx

NAME = "mnist"

# The four original files with their well-known checksums.
FILES = {
    "train-images-idx3-ubyte.gz": {
        "md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
        "sha256": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    },
    "train-labels-idx1-ubyte.gz": {
        "md5": "d53e105ee54ea40749a09fcbcd1e9432",
        "sha256": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    },
    "t10k-images-idx3-ubyte.gz": {
        "md5": "9fb629c4189551a2d022fa330f9573f3",
        "sha256": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    },
    "t10k-labels-idx1-ubyte.gz": {
        "md5": "ec29112dd5afa0611ce80d1b7f02629c",
        "sha256": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
}

MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def load_data(path=None):
    """Load MNIST as ``(x_train, y_train), (x_test, y_test)``.

    x: uint8 arrays of shape (60000, 28, 28) and (10000, 28, 28), values 0..255;
    y: uint8 arrays of shape (60000,) and (10000,), digits 0..9.

    The four IDX files (gzipped or not) are read from ``path`` if given, else from
    ``$PYDL_DATA/mnist/``, else from ``~/.pydl/datasets/mnist/``, where they are
    downloaded (and checksum-verified) the first time.
    """
    return load_idx_dataset(NAME, FILES, MIRRORS, path)


def load_idx_dataset(name, files, mirrors, path=None):
    """Shared by MNIST and Fashion-MNIST, which use the same four file names."""
    paths = _download.resolve_dataset(name, files, mirrors, path)

    def pair(images_name, labels_name):
        x = _idx.load_images(paths[images_name])
        y = _idx.load_labels(paths[labels_name])
        if len(x) != len(y):
            raise _idx.IDXFormatError(
                f"{name}: {paths[images_name]} holds {len(x)} images but "
                f"{paths[labels_name]} holds {len(y)} labels"
            )
        return x, y

    return (pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
            pair("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"))
