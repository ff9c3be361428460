"""Course topic: data augmentation, and the noisy-test experiment (deck 003's "tips": a network
trained on clean digits does worse on noisy test digits).

Trains the same small CNN twice on the same images: once on the images as they are, once
through augmentation layers that act only in training (RandomRotation by up to the course's 15
degrees, RandomTranslation by up to 10%, GaussianNoise). Then tests both on the clean test set
and on test sets changed in ways the training images never were: rotated by 20 degrees, shifted
by 3 pixels, with Gaussian noise, with 30% of the pixels set to 0. It prints the table of test
accuracies and draws a grid of augmented training samples (matplotlib, optional):

    python examples/augmentation.py [--train-size 10000] [--epochs 3] [--test-size N] [--out figures/augmented.png]
"""
import argparse
import math

import numpy as np

import pydl
from pydl.data import augment
from pydl.datasets import load_mnist_or_digits
from pydl.layers import (Conv2D, Dense, Flatten, GaussianNoise, MaxPooling2D, RandomRotation,
                         RandomTranslation)
from pydl.models import Sequential
from pydl.utils.plots import get_pyplot, plot_images, save_figure


def augmentation_layers(input_shape, seed):
    return [RandomRotation(15 / 360, fill_mode="constant", seed=seed, input_shape=input_shape, name="rotate"),
            RandomTranslation(0.1, 0.1, fill_mode="constant", seed=seed + 1, name="shift"),
            GaussianNoise(0.1, seed=seed + 2, name="noise")]


def cnn(input_shape, augmented, seed=0):
    padding = "valid" if input_shape[1] >= 28 else "same"
    first = {} if augmented else {"input_shape": input_shape}
    layers = augmentation_layers(input_shape, seed) if augmented else []
    layers += [Conv2D(32, 3, activation="relu", padding=padding, name="conv1", **first),
               MaxPooling2D(2, name="pool1"),
               Conv2D(64, 3, activation="relu", padding=padding, name="conv2"),
               MaxPooling2D(2, name="pool2"),
               Flatten(name="flatten"),
               Dense(128, activation="relu", name="dense"),
               Dense(10, activation="softmax", name="classes")]
    return Sequential(layers, name="augmented" if augmented else "plain")


def test_sets(x, seed=0):
    """The clean test images and four changed copies (each change fixed, the same for both nets)."""
    rng = np.random.default_rng(seed)
    shift = max(1, round(3 * x.shape[2] / 28))
    signs = np.where(rng.random(len(x)) < 0.5, -1.0, 1.0)
    return {
        "clean": x,
        "rotated 20 degrees": augment.rotate(x, signs * math.radians(20)),
        f"shifted {shift} px": augment.translate(x, signs * shift, -signs * shift),
        "Gaussian noise 0.3": augment.gaussian_noise(x, 0.3, rng, value_range=(0, 1)),
        "30% pixels set to 0": augment.masking_noise(x, 0.3, rng),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train-size", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--test-size", type=int, default=None, help="test on the first N test images only")
    parser.add_argument("--out", default="figures/augmented.png")
    parser.add_argument("--show", action="store_true")
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits(images=True)
    x_train, y_train = x_train[:args.train_size], y_train[:args.train_size]
    x_test, y_test = x_test[:args.test_size], y_test[:args.test_size]
    print(f"{name}: {len(x_train)} training images, {args.epochs} epochs, {len(x_test)} test images")

    results = {}
    for augmented in (False, True):
        model = cnn(x_train.shape[1:], augmented)
        model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
        model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, verbose=2)
        results[model.name] = {k: model.evaluate(v, y_test, verbose=0)[1] for k, v in test_sets(x_test).items()}

    print()
    print("| test set | plain | augmented |")
    print("|---|---|---|")
    for k in results["plain"]:
        print(f"| {k} | {results['plain'][k]:.4f} | {results['augmented'][k]:.4f} |")

    plt = get_pyplot(args.show)
    if plt is None:
        return
    layers = augmentation_layers(x_train.shape[1:], seed=1)
    samples = np.repeat(x_train[:4], 6, axis=0)
    for layer in layers:
        samples = layer(pydl.tensor(samples), training=True).numpy()
    samples[::6] = x_train[:4]  # the first of each row: the original
    fig = plot_images(samples, titles=["original" if i % 6 == 0 else "augmented" for i in range(len(samples))],
                      plt=plt, cols=6, title="training samples through RandomRotation, RandomTranslation, "
                                             "GaussianNoise")
    save_figure(fig, args.out)
    if args.show:
        plt.show()


if __name__ == "__main__":
    main()
