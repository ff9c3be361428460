"""Fashion-MNIST: Zalando's article images, a drop-in replacement for MNIST.

60,000 training and 10,000 test images, 28x28 grayscale, 10 classes (see
:data:`CLASS_NAMES`). Xiao, Rasul and Vollgraf (2017),
https://github.com/zalandoresearch/fashion-mnist (MIT licence). ``load_data`` returns what
``keras.datasets.fashion_mnist.load_data`` returns.
"""

from .mnist import load_idx_dataset

NAME = "fashion_mnist"

CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)

# MD5s published in the Fashion-MNIST README.
FILES = {
    "train-images-idx3-ubyte.gz": {"md5": "8d4fb7e6c68d591d4c3dfef9ec88bf0d", "sha256": None},
    "train-labels-idx1-ubyte.gz": {"md5": "25c81989df183df01b3e8a0aad5dffbe", "sha256": None},
    "t10k-images-idx3-ubyte.gz": {"md5": "bef4ecab320f06d8554ea6380940ec79", "sha256": None},
    "t10k-labels-idx1-ubyte.gz": {"md5": "bb300cfdad3c16e7a12a480ee83cd310", "sha256": None},
}

MIRRORS = (
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
)


def load_data(path=None):
    """Load Fashion-MNIST as ``(x_train, y_train), (x_test, y_test)``.

    x: uint8 arrays of shape (60000, 28, 28) and (10000, 28, 28), values 0..255;
    y: uint8 arrays of shape (60000,) and (10000,), class indices 0..9.

    The four IDX files are read from ``path`` if given, else from
    ``$PYDL_DATA/fashion_mnist/``, else from ``~/.pydl/datasets/fashion_mnist/``, where
    they are downloaded (and checksum-verified) the first time.
    """
    return load_idx_dataset(NAME, FILES, MIRRORS, path)
