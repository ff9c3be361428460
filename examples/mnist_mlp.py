"""Course topic: a fully connected network on MNIST, the Keras way.

The course's 784-500-500-10 network with ReLU and Adam. It reads MNIST from $PYDL_DATA/mnist
(or ~/.pydl/datasets/mnist); when MNIST is not there and cannot be downloaded it says so and
trains on scikit-learn's 8x8 digits instead, so it always runs.

    python examples/mnist_mlp.py [--epochs 10]
"""
import argparse

import pydl
from pydl.layers import Dense, Dropout
from pydl.models import Sequential
from pydl.optimizers import Adam
from pydl.datasets import load_mnist_or_digits


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=128)
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits()

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
