"""Course topic: learning-rate schedules - constant, exponential decay and cyclical rates.

The same dense network (784-128-128-10, ReLU, plain SGD) trained on a 5000-image slice of
MNIST (scikit-learn's 8x8 digits when MNIST is not there) with four learning rates, each a
``pydl.schedules`` object given as the optimizer's ``learning_rate`` (the optimizer evaluates
it at every step):

* constant                 0.1
* exponential decay        0.3 * 0.5 ** (step / (2 epochs)), Keras's ExponentialDecay
* triangular (Smith 2017)  between 0.01 and 0.3 and back, every 4 epochs
* triangular2              the same, with the height halved every cycle

It prints the final training loss and the validation and test accuracies of each, and plots
the rate the optimizer actually used at every step beside the training- and validation-loss
curves (matplotlib, optional).

    python examples/learning_rates.py [--quick] [--epochs 12] [--train-size 5000]
                                      [--out examples/out/learning_rates.png] [--show]
"""
import argparse
import json
import math
import os

import numpy as np

import pydl
from pydl.utils.plots import get_pyplot, save_figure
from pydl.datasets import load_mnist_or_digits
from pydl.callbacks import LambdaCallback
from pydl.layers import Dense
from pydl.models import Sequential
from pydl.optimizers import SGD
from pydl.schedules import CyclicalLearningRate, ExponentialDecay


def load_data():
    """(name, x_train, y_train, x_test, y_test): flat float32 images in [0, 1], one-hot labels."""
    return load_mnist_or_digits()


def schedules(steps_per_epoch):
    """name -> a learning rate (a number or a schedule object), all in optimizer steps."""
    return {
        "constant": 0.1,
        "exponential decay": ExponentialDecay(0.3, decay_steps=2 * steps_per_epoch, decay_rate=0.5),
        "triangular": CyclicalLearningRate(base_lr=0.01, max_lr=0.3, step_size=2 * steps_per_epoch,
                                           mode="triangular"),
        "triangular2": CyclicalLearningRate(base_lr=0.01, max_lr=0.3, step_size=2 * steps_per_epoch,
                                            mode="triangular2"),
    }


def plot(runs, steps_per_epoch, plt, out, show):
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.5))
    for name, r in runs.items():
        line, = axes[0].plot(np.arange(len(r["lr"])), r["lr"], label=name)
        epochs = np.arange(1, len(r["loss"]) + 1)
        axes[1].plot(epochs, r["loss"], color=line.get_color(), label=name)
        axes[2].plot(epochs, r["val_loss"], color=line.get_color(), label=name)
    axes[0].set(title="learning rate the optimizer used", xlabel=f"step ({steps_per_epoch} per epoch)",
                ylabel="learning rate")
    axes[1].set(title="training loss", xlabel="epoch", ylabel="loss (log scale)", yscale="log")
    axes[2].set(title="validation loss", xlabel="epoch", ylabel="loss (log scale)", yscale="log")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, out)
    if show:
        plt.show()
    plt.close(fig)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tiny smoke-test run (seconds)")
    parser.add_argument("--epochs", type=int, help="default 12 (4 with --quick)")
    parser.add_argument("--train-size", type=int, help="training images (default 5000; 1000 with --quick)")
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--out", default=os.path.join("examples", "out", "learning_rates.png"))
    parser.add_argument("--table", help="also write the markdown table to this file")
    parser.add_argument("--history",
                        help="also write every epoch's logs and each step's learning rate to this JSON file")
    parser.add_argument("--show", action="store_true", help="open the figure in a window")
    parser.add_argument("--no-plot", action="store_true")
    args = parser.parse_args(argv)

    pydl.manual_seed(0)
    name, x_all, y_all, x_test, y_test = load_data()
    n = args.train_size or (1000 if args.quick else 5000)
    n = min(n, int(len(x_all) * 0.8))
    epochs = args.epochs or (4 if args.quick else 12)
    n_val = min(1000, len(x_all) - n)
    x_train, y_train = x_all[:n], y_all[:n]
    x_val, y_val = x_all[n:n + n_val], y_all[n:n + n_val]
    steps_per_epoch = math.ceil(n / args.batch_size)
    print(f"{name}: {n} training, {n_val} validation, {len(x_test)} test images; 2 x 128 ReLU, SGD, "
          f"{epochs} epochs of {steps_per_epoch} steps")

    runs, rows = {}, []
    for label, lr in schedules(steps_per_epoch).items():
        pydl.manual_seed(0)  # the same initial weights and shuffles for every schedule
        model = Sequential([
            Dense(128, activation="relu", input_shape=(x_train.shape[1],)),
            Dense(128, activation="relu"),
            Dense(10, activation="softmax"),
        ])
        model.compile(loss="categorical_crossentropy", optimizer=SGD(learning_rate=lr), metrics=["accuracy"])
        used = []  # the rate of every step, read from the optimizer as it trains
        record = LambdaCallback(on_batch_begin=lambda batch, logs: used.append(model.optimizer.learning_rate))
        h = model.fit(x_train, y_train, batch_size=args.batch_size, epochs=epochs,
                      validation_data=(x_val, y_val), callbacks=[record], verbose=0)
        _, test_acc = model.evaluate(x_test, y_test, batch_size=1000, verbose=0)
        runs[label] = dict(lr=used, **h.history)
        rows.append((label, h.history["loss"][-1], h.history["val_accuracy"][-1], test_acc))
        print(f"  {label}: final training loss {rows[-1][1]:.4f}", flush=True)

    lines = ["| learning rate | final training loss | validation accuracy | test accuracy |",
             "|---|---|---|---|"]
    lines += [f"| {s} | {l:.4f} | {v:.4f} | {t:.4f} |" for s, l, v, t in rows]
    text = "\n".join(lines)
    print()
    print(text)
    if args.table:
        with open(args.table, "w") as fh:
            fh.write(text + "\n")
    if args.history:
        with open(args.history, "w") as fh:
            json.dump(runs, fh, default=float)

    if not args.no_plot:
        plt = get_pyplot(args.show)
        if plt is not None:
            plot(runs, steps_per_epoch, plt, args.out, args.show)


if __name__ == "__main__":
    main()
