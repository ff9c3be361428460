"""Course topic: a fully connected network on MNIST, the Keras way.

The course's 784-500-500-10 network with ReLU and Adam. It reads MNIST from $PYDL_DATA/mnist
(or ~/.pydl/datasets/mnist); when MNIST is not there and cannot be downloaded it says so and
trains on scikit-learn's 8x8 digits instead, so it always runs.

    python examples/mnist_mlp.py [--epochs 10]
"""
import argparse

import numpy as np

import pydl
from pydl.layers import Dense, Dropout
from pydl.models import Sequential
from pydl.optimizers import Adam
from pydl.utils import to_categorical


def load():
    try:
        from pydl.datasets import mnist
        (x_train, y_train), (x_test, y_test) = mnist.load_data()
        name = "MNIST"
    except (OSError, ValueError) as e:
        print(f"MNIST is unavailable ({str(e).splitlines()[0]}); training on the 8x8 digits instead.")
        from pydl.datasets import digits
        (x_train, y_train), (x_test, y_test) = digits.load_data()
        x_train, x_test = x_train * 16, x_test * 16  # 0..16 -> 0..256, like pixels
        name = "digits"
    x_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255
    x_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255
    return name, x_train, to_categorical(y_train, 10), x_test, to_categorical(y_test, 10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load()

    model = Sequential([
        Dense(500, activation="relu", input_shape=(x_train.shape[1],)),
        Dropout(0.2),
        Dense(500, activation="relu"),
        Dropout(0.2),
        Dense(10, activation="softmax"),
    ])
    model.summary()
    model.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=1e-3), metrics=["accuracy"])
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs, verbose=2,
              validation_split=0.1)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    print(f"{name} test loss {loss:.4f}, test accuracy {acc:.4f}")


if __name__ == "__main__":
    main()
