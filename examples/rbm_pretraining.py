"""Course topic (deck 000, unsupervised learning): RBMs and greedy layer-wise pretraining of a deep
autoencoder (Hinton & Salakhutdinov 2006, "Reducing the dimensionality of data with neural networks").

1. A stack of Bernoulli RBMs is trained one layer at a time with CD-1 on MNIST: the first on the
   pixels, each next one on the hidden probabilities of the one below.
2. The stack is unrolled into a deep autoencoder (encoder W1..Wn, decoder Wnᵀ..W1ᵀ) and fine-tuned
   with backpropagation on the reconstruction.
3. The same autoencoder from random (Glorot) initialisation is trained with the same optimizer for
   the same number of epochs. Both reconstruction errors on the test set are printed.

It reads MNIST from $PYDL_DATA/mnist (or downloads it); without MNIST it uses scikit-learn's 8x8
digits. ``--plot PATH`` saves the first RBM's filters and test reconstructions (needs matplotlib).

    python examples/rbm_pretraining.py [--train 10000] [--units 256 64] [--rbm-epochs 5] [--epochs 5]
"""
import argparse

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Dense, Input
from pydl.models import Sequential, pretrain_stack, unroll


def random_autoencoder(n_in, units):
    """The unrolled architecture, every layer a sigmoid Dense from Glorot initialisation."""
    enc = Sequential([Input((n_in,))] + [Dense(u, activation="sigmoid") for u in units], name="encoder")
    sizes = list(reversed(units[:-1])) + [n_in]
    dec = Sequential([Input((units[-1],))] + [Dense(u, activation="sigmoid") for u in sizes], name="decoder")
    return Sequential([enc, dec], name="random_autoencoder")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=10000, help="training images (a subset, for speed)")
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--units", type=int, nargs="+", default=[256, 64], help="hidden layer sizes of the stack")
    parser.add_argument("--rbm-epochs", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=5, help="fine-tuning epochs (and the baseline's)")
    parser.add_argument("--plot", default=None, help="save filters and reconstructions to this PNG")
    args = parser.parse_args()

    pydl.manual_seed(0)
    name, x_train, _, x_test, _ = load_mnist_or_digits()
    x_train, x_test = x_train[:args.train], x_test[:args.test]
    print(f"{name}: {len(x_train)} training and {len(x_test)} test images of {x_train.shape[1]} pixels")

    print(f"\n1. greedy pretraining of RBMs {x_train.shape[1]}-" + "-".join(map(str, args.units)) + " (CD-1)")
    rbms = pretrain_stack(x_train, args.units, epochs=args.rbm_epochs, batch_size=100, verbose=1, learning_rate=0.1,
                          momentum=0.5)

    results = {}
    for label, model in (("pretrained RBMs", unroll(rbms)), ("random init", random_autoencoder(x_train.shape[1],
                                                                                                args.units))):
        print(f"\n2. fine-tuning the autoencoder from {label}")
        before = float(np.mean((model.predict(x_test, verbose=0) - x_test) ** 2))
        model.compile(optimizer="adam", loss="binary_crossentropy")
        model.fit(x_train, x_train, epochs=args.epochs, batch_size=100, verbose=2)
        after = float(np.mean((model.predict(x_test, verbose=0) - x_test) ** 2))
        results[label] = (before, after, model)

    print("\ntest reconstruction error (mean squared error per pixel)\n")
    print(f"| autoencoder from | before fine-tuning | after {args.epochs} epochs |")
    print("|---|---|---|")
    for label, (before, after, _) in results.items():
        print(f"| {label} | {before:.4f} | {after:.4f} |")

    if args.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no plot (pip install matplotlib)")
            return
        side = int(round(np.sqrt(x_train.shape[1])))
        w = rbms[0].get_weights()[0]
        fig, axes = plt.subplots(4, 8, figsize=(8, 4.6))
        for i, ax in enumerate(axes.flat):
            if i < 16:
                ax.imshow(w[:, i].reshape(side, side), cmap="gray")
                ax.set_title(f"filter {i}", fontsize=6)
            else:
                j = i - 16
                model = results["pretrained RBMs"][2]
                img = x_test[j // 2] if j % 2 == 0 else model.predict(x_test[j // 2:j // 2 + 1], verbose=0)[0]
                ax.imshow(img.reshape(side, side), cmap="gray")
                ax.set_title("input" if j % 2 == 0 else "reconstruction", fontsize=6)
            ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f"saved {args.plot}")


if __name__ == "__main__":
    main()
