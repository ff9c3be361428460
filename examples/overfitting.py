"""Course topic: overfitting and regularisation - dropout, L2 weight decay, early stopping.

A big dense network (784-256-256-10, ReLU, Adam) trained on a small slice of MNIST (1000
images; scikit-learn's 8x8 digits when MNIST is not there) fits its training set perfectly
while the validation loss turns back up: it overfits. The same network again

* with Dropout(0.5) after each hidden layer,
* with an L2 penalty on every kernel (``kernel_regularizer=L2(1e-3)``),
* with ``EarlyStopping(monitor='val_loss', patience=5, restore_best_weights=True)``,

and for each the training, validation and test accuracies at the end (training accuracy
measured at inference, without dropout) with the final validation loss, and the training and
validation curves (one column of panels per setting; matplotlib, optional). The reported
losses are the cross-entropy alone, without the L2 penalty. Early stopping watches the
validation loss: it keeps the epoch where that loss is lowest, which on a set this small
comes before the validation accuracy has stopped creeping up.

    python examples/overfitting.py [--quick] [--epochs 40] [--train-size 1000]
                                   [--out examples/out/overfitting.png] [--show]
"""
import argparse
import json
import os
import time

import numpy as np

import pydl
from pydl.utils.plots import get_pyplot, save_figure
from pydl.datasets import load_mnist_or_digits
from pydl.callbacks import EarlyStopping
from pydl.layers import Dense, Dropout
from pydl.models import Sequential
from pydl.optimizers import Adam
from pydl.regularizers import L2


def load_data():
    """(name, x_train, y_train, x_test, y_test): flat float32 images in [0, 1], one-hot labels."""
    return load_mnist_or_digits()


def build(n_inputs, units, dropout=0.0, l2=0.0):
    reg = L2(l2) if l2 else None
    layers = []
    for i in range(2):
        kw = {"input_shape": (n_inputs,)} if i == 0 else {}
        layers.append(Dense(units, activation="relu", kernel_regularizer=reg, **kw))
        if dropout:
            layers.append(Dropout(dropout))
    layers.append(Dense(10, activation="softmax", kernel_regularizer=reg))
    return Sequential(layers)


SETTINGS = {  # name -> (build arguments, uses early stopping)
    "plain": ({}, False),
    "dropout 0.5": ({"dropout": 0.5}, False),
    "L2 1e-3": ({"l2": 1e-3}, False),
    "early stopping": ({}, True),
}


def plot(histories, plt, out, show):
    fig, axes = plt.subplots(2, len(histories), figsize=(4 * len(histories), 6.5), sharey="row")
    for col, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h["loss"]) + 1)
        for row, (key, label) in enumerate((("loss", "loss"), ("accuracy", "accuracy"))):
            ax = axes[row, col]
            ax.plot(epochs, h[key], label="training")
            ax.plot(epochs, h["val_" + key], label="validation")
            if "best_epoch" in h:
                ax.axvline(h["best_epoch"], color="gray", ls="--", lw=1, label="restored epoch")
            ax.set_xlabel("epoch")
            if col == 0:
                ax.set_ylabel(label)
            if row == 0:
                ax.set_title(name)
            ax.grid(alpha=0.3)
        axes[0, col].legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)
    if show:
        plt.show()
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke-test run (seconds)")
    parser.add_argument("--epochs", type=int, help="default 40 (8 with --quick)")
    parser.add_argument("--train-size", type=int, help="training images (default 1000, 300 on digits)")
    parser.add_argument("--units", type=int, help="units per hidden layer (default 256)")
    parser.add_argument("--out", default=os.path.join("examples", "out", "overfitting.png"))
    parser.add_argument("--table", help="also write the markdown table to this file")
    parser.add_argument("--history", help="also write every epoch's logs (per setting) to this JSON file")
    parser.add_argument("--show", action="store_true", help="open the figure in a window")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)

    pydl.manual_seed(0)
    name, x_all, y_all, x_test, y_test = load_data()
    default_n = 300 if name == "digits" else 1000
    n = args.train_size or (min(default_n, 300) if args.quick else default_n)
    n = min(n, len(x_all) // 2)
    epochs = args.epochs or (8 if args.quick else 40)
    units = args.units or (64 if args.quick else 256)
    # The first n images train, the next n validate; the test set stays untouched until the end.
    x_train, y_train = x_all[:n], y_all[:n]
    x_val, y_val = x_all[n:2 * n], y_all[n:2 * n]
    print(f"{name}: {n} training, {len(x_val)} validation, {len(x_test)} test images; "
          f"2 x {units} ReLU, Adam, {epochs} epochs")

    histories, rows = {}, []
    for setting, (kwargs, early) in SETTINGS.items():
        pydl.manual_seed(0)  # the same initial weights and shuffles for every setting
        model = build(x_train.shape[1], units, **kwargs)
        model.compile(loss="categorical_crossentropy", optimizer=Adam(learning_rate=1e-3), metrics=["accuracy"])
        stopper = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True) if early else None
        t = time.perf_counter()
        h = model.fit(x_train, y_train, batch_size=32, epochs=epochs, validation_data=(x_val, y_val),
                      callbacks=[stopper] if stopper else None, verbose=0)
        hist = dict(h.history)
        ran = len(hist["loss"])
        if stopper is not None:
            hist["best_epoch"] = stopper.best_epoch + 1
        (_, train_acc), (val_loss, val_acc), (_, test_acc) = [
            model.evaluate(x, y, batch_size=1000, verbose=0)
            for x, y in ((x_train, y_train), (x_val, y_val), (x_test, y_test))]
        note = f"{ran} (best {stopper.best_epoch + 1})" if stopper is not None else f"{ran}"
        rows.append((setting, note, train_acc, val_acc, test_acc, val_loss))
        histories[setting] = hist
        print(f"  {setting}: {ran} epochs, {time.perf_counter() - t:.1f}s", flush=True)

    lines = ["| setting | epochs | train accuracy | validation accuracy | test accuracy | validation loss |",
             "|---|---|---|---|---|---|"]
    lines += [f"| {s} | {e} | {a:.4f} | {v:.4f} | {t:.4f} | {l:.4f} |" for s, e, a, v, t, l in rows]
    text = "\n".join(lines)
    print()
    print(text)
    if args.table:
        with open(args.table, "w") as fh:
            fh.write(text + "\n")
    if args.history:
        with open(args.history, "w") as fh:
            json.dump(histories, fh, default=float)

    if not args.no_plot:
        plt = get_pyplot(args.show)
        if plt is not None:
            plot(histories, plt, args.out, args.show)


if __name__ == "__main__":
    main()
