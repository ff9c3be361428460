"""Course topic: tips for training deep networks - the choices that make a dense net train.

The course's experiments on MNIST (or, when MNIST is not there, scikit-learn's 8x8 digits),
each changing one choice of a baseline and reporting the test accuracy:

    baseline: 3 hidden Dense layers of sigmoid units, softmax output, cross-entropy,
              SGD (learning rate 0.3), mini-batches of 100, 5 epochs on a 10 000-image subset

* loss:        mean squared error vs cross-entropy (MSE on softmax outputs has tiny gradients
               when the net is wrong, so it learns far slower);
* batch size:  mini-batches of 100 vs the full batch (one update per epoch: far fewer steps);
* depth:       3 vs 9 hidden layers (with sigmoid units the gradient vanishes on its way down
               9 layers: the deep net barely trains);
* activation:  sigmoid vs ReLU in the 9-layer net (ReLU passes the gradient through: it trains);
* test inputs: clean vs Gaussian noise added to the test images (the baseline, unchanged).

On the digits (1437 training images) the defaults are 120 epochs at learning rate 0.1: at
MNIST's 0.3 the 9-layer ReLU net diverges on some draws of its initial weights (its gradient
turns NaN/inf and fit stops, naming the layer), and at 0.1 the sigmoid baseline needs the
longer run to learn. A row whose training diverges reads "diverged" in the table.

The defaults take a couple of minutes on two cores; ``--full`` trains on all 60 000 images
for 20 epochs with the slides' 689 units per layer and learning rate 0.1 (much longer).

    python examples/compare_choices.py [--quick | --full] [--table results.md]
"""
import argparse
import os
import time

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.optimizers import SGD, NonFiniteGradientError


def load_data():
    """(name, x_train, y_train, x_test, y_test): flat float32 images in [0, 1], one-hot labels."""
    return load_mnist_or_digits()


def build(n_inputs, units, hidden_layers, activation):
    layers = [Dense(units, activation=activation, input_shape=(n_inputs,))]
    layers += [Dense(units, activation=activation) for _ in range(hidden_layers - 1)]
    layers.append(Dense(10, activation="softmax"))
    return Sequential(layers)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="a tiny smoke-test run (seconds)")
    size.add_argument("--full", action="store_true", help="all the training data, 20 epochs, 689 units")
    parser.add_argument("--train-size", type=int, help="training images (default 10000; all with --full)")
    parser.add_argument("--epochs", type=int, help="default 5 on MNIST, 120 on the small digits set")
    parser.add_argument("--units", type=int, help="units per hidden layer (default 128)")
    parser.add_argument("--learning-rate", type=float,
                        help="SGD's rate (default 0.3 on MNIST; 0.1 with --full and on the digits)")
    parser.add_argument("--noise", type=float, default=1.0,
                        help="std of the Gaussian noise added to the test images (pixels in [0, 1]; default 1)")
    parser.add_argument("--table", help="also write the markdown table to this file")
    args = parser.parse_args(argv)

    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load_data()
    small = name == "digits"
    if args.quick:
        n, epochs, units = 1000, 2 if not small else 10, 32
    elif args.full:
        n, epochs, units = len(x_train), 20, 689
    else:
        n, epochs, units = 10000, 5 if not small else 120, 128
    n = min(args.train_size or n, len(x_train))
    epochs = args.epochs or epochs
    units = args.units or units
    lr = args.learning_rate or (0.1 if args.full or small else 0.3)
    x_train, y_train = x_train[:n], y_train[:n]
    print(f"{name}: {n} training images, {len(x_test)} test images; {epochs} epochs, {units} units per "
          f"hidden layer, SGD(learning_rate={lr})")

    trained = {}

    def accuracy(loss="categorical_crossentropy", batch_size=100, depth=3, activation="sigmoid", noise=0.0):
        """Train the baseline with the given changes (once per setting) and return its test accuracy."""
        key = (loss, batch_size, depth, activation)
        if key not in trained:
            pydl.manual_seed(0)  # every setting starts from the same draws
            model = build(x_train.shape[1], units, depth, activation)
            model.compile(loss=loss, optimizer=SGD(learning_rate=lr), metrics=["accuracy"])
            t = time.perf_counter()
            try:
                model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=0)
            except NonFiniteGradientError as e:  # the step that would have written NaN/inf
                print(f"  {depth} x {activation}, {loss}, batch {batch_size} diverged: {e}", flush=True)
                model = None
            trained[key] = model
            print(f"  trained {depth} x {activation}, {loss}, batch {batch_size}: "
                  f"{time.perf_counter() - t:.1f}s", flush=True)
        if trained[key] is None:
            return None
        x = x_test
        if noise:
            rng = np.random.default_rng(0)
            x = (x_test + rng.normal(0.0, noise, size=x_test.shape)).astype(np.float32)
        _, acc = trained[key].evaluate(x, y_test, batch_size=1000, verbose=0)
        return acc

    rows = [
        ("loss", "mean squared error", accuracy(loss="mse")),
        ("loss", "cross-entropy (softmax)", accuracy()),
        ("batch size", "100 (mini-batch)", accuracy()),
        ("batch size", f"{n} (full batch)", accuracy(batch_size=n)),
        ("depth (sigmoid)", "3 hidden layers", accuracy()),
        ("depth (sigmoid)", "9 hidden layers", accuracy(depth=9)),
        ("activation (9 layers)", "sigmoid", accuracy(depth=9)),
        ("activation (9 layers)", "ReLU", accuracy(depth=9, activation="relu")),
        ("test inputs", "clean", accuracy()),
        ("test inputs", f"Gaussian noise, std {args.noise:g}", accuracy(noise=args.noise)),
    ]
    lines = ["| choice | setting | test accuracy |", "|---|---|---|"]
    lines += [f"| {c} | {s} | {'diverged' if a is None else f'{a:.4f}'} |" for c, s, a in rows]
    text = "\n".join(lines)
    print(f"\nTest accuracy, {name} ({n} training images, {epochs} epochs; baseline: 3 x {units} sigmoid, "
          "cross-entropy, batch 100):\n")
    print(text)
    if args.table:
        os.makedirs(os.path.dirname(os.path.abspath(args.table)), exist_ok=True)
        with open(args.table, "w") as fh:
            fh.write(text + "\n")


if __name__ == "__main__":
    main()
