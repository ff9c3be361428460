"""Course topic (decks 000 and 002, learning features by compressing): the autoencoders the course
names, each a ``Sequential([encoder, decoder])`` whose encoder and decoder work on their own
after training.

  undercomplete  784 -> 32 -> 784: a code much smaller than the input
  denoising      the input corrupted in training only (MaskingNoise: pixels set to 0, or
                 GaussianNoise), the clean image as the target (Vincent et al. 2008)
  sparse         overcomplete, 784 -> 1024 sigmoid units kept sparse by the KL penalty towards a
                 mean activation rho = 0.05 (``regularizers.KLSparsity``, weight --beta: the
                 penalty sums over 1024 units while Keras's loss is a mean over 784 pixels, so
                 Ng's beta = 3 for a summed squared error becomes about 0.001 here; measured: 0.01
                 already pins every unit near rho and the reconstruction fails)
  stacked        a deep 784-256-64-256-784 autoencoder
  conv           Conv2D + MaxPooling2D down, Conv2D + UpSampling2D up

Printed: each one's test reconstruction error (mean squared error per pixel) beside the error
of predicting the mean training image; the denoising one also on corrupted test images (against
the corrupted input itself); the sparse one its mean hidden activation. ``--plot PREFIX`` saves
inputs, noisy inputs and reconstructions, and the learned features (first-layer kernels).

    python examples/autoencoders.py [--kinds undercomplete denoising sparse stacked conv] [--epochs 5]
"""
import argparse

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.layers import (Conv2D, Dense, GaussianNoise, MaskingNoise, MaxPooling2D, UpSampling2D)
from pydl.models import Sequential
from pydl.regularizers import KLSparsity

KINDS = ["undercomplete", "denoising", "sparse", "stacked", "conv"]


def dense_ae(n, sizes, code_act="relu", corrupt=None, code_reg=None):
    """Encoder n -> sizes..., decoder back to n (sigmoid pixels)."""
    enc_layers = [pydl.Input((n,))] + ([corrupt] if corrupt is not None else [])
    for i, s in enumerate(sizes):
        last = i == len(sizes) - 1
        enc_layers.append(Dense(s, activation=code_act if last else "relu",
                                activity_regularizer=code_reg if last else None))
    dec_layers = [pydl.Input((sizes[-1],))] + [Dense(s, activation="relu") for s in reversed(sizes[:-1])]
    dec_layers.append(Dense(n, activation="sigmoid"))
    return Sequential([Sequential(enc_layers, name="encoder"), Sequential(dec_layers, name="decoder")])


def conv_ae(side):
    enc = Sequential([pydl.Input((1, side, side)), Conv2D(16, 3, padding="same", activation="relu"), MaxPooling2D(2),
                      Conv2D(8, 3, padding="same", activation="relu"), MaxPooling2D(2)], name="encoder")
    q = side // 4
    dec = Sequential([pydl.Input((8, q, q)), Conv2D(8, 3, padding="same", activation="relu"), UpSampling2D(2),
                      Conv2D(16, 3, padding="same", activation="relu"), UpSampling2D(2),
                      Conv2D(1, 3, padding="same", activation="sigmoid")], name="decoder")
    return Sequential([enc, dec])


def build(kind, n, side, noise, rate, args_beta):
    if kind == "undercomplete":
        return dense_ae(n, [32])
    if kind == "denoising":
        corrupt = MaskingNoise(rate, seed=0) if noise == "masking" else GaussianNoise(rate, seed=0)
        return dense_ae(n, [128], corrupt=corrupt)
    if kind == "sparse":
        return dense_ae(n, [1024], code_act="sigmoid", code_reg=KLSparsity(rho=0.05, beta=args_beta))
    if kind == "stacked":
        return dense_ae(n, [256, 64])
    return conv_ae(side)


def corrupt_like_training(model, x):
    """The test images corrupted by the denoising model's own noise layer (training=True)."""
    return model.layers[0].layers[0](x, training=True).numpy()


def mse(a, b):
    return float(np.mean((np.asarray(a).reshape(len(a), -1) - np.asarray(b).reshape(len(b), -1)) ** 2))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=KINDS)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--train", type=int, default=20000, help="training images (a subset, for speed)")
    parser.add_argument("--noise", choices=["masking", "gaussian"], default="masking")
    parser.add_argument("--rate", type=float, default=0.3, help="masking rate or Gaussian stddev")
    parser.add_argument("--beta", type=float, default=0.001, help="weight of the sparse one's KL penalty")
    parser.add_argument("--plot", default=None, help="save PREFIX_<kind>.png")
    args = parser.parse_args()
    name, x_flat, _, t_flat, _ = load_mnist_or_digits()
    _, x_img, _, t_img, _ = load_mnist_or_digits(verbose=False, images=True)
    x_flat, x_img = x_flat[:args.train], x_img[:args.train]
    side = x_img.shape[-1]
    baseline = mse(t_flat, np.broadcast_to(x_flat.mean(0), t_flat.shape))
    print(f"{name}: {len(x_flat)} training and {len(t_flat)} test images; predicting the mean image: "
          f"test MSE {baseline:.4f}")

    rows, models = [], {}
    for kind in args.kinds:
        pydl.manual_seed(0)
        conv = kind == "conv"
        x, t = (x_img, t_img) if conv else (x_flat, t_flat)
        model = build(kind, x_flat.shape[1], side, args.noise, args.rate, args.beta)
        model.compile(optimizer="adam", loss="binary_crossentropy")
        print(f"\n{kind} autoencoder")
        model.fit(x, x, epochs=args.epochs, batch_size=128, verbose=2)
        encoder, decoder = model.layers
        code = encoder.predict(t, verbose=0)
        recon = decoder.predict(code, verbose=0)
        extra = ""
        if kind == "denoising":
            noisy = corrupt_like_training(model, t)
            extra = (f"corrupted test images: input MSE {mse(noisy, t):.4f}, reconstruction MSE "
                     f"{mse(model.predict(noisy, verbose=0), t):.4f}")
        elif kind == "sparse":
            extra = f"mean hidden activation {code.mean():.3f} (target 0.05)"
        rows.append((kind, "x".join(str(d) for d in code.shape[1:]), mse(recon, t), extra))
        models[kind] = (model, t, recon)

    print("\n| autoencoder | code shape | test MSE | notes |")
    print("|---|---|---|---|")
    for kind, shape, err, extra in rows:
        print(f"| {kind} | {shape} | {err:.4f} | {extra} |")
    if args.plot:
        plot(args.plot, models, side)


def plot(prefix, models, side):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return
    for kind, (model, t, recon) in models.items():
        rows = [("input", t[:10])]
        if kind == "denoising":
            noisy = corrupt_like_training(model, t[:10])
            rows += [("noisy input", noisy), ("reconstruction", model.predict(noisy, verbose=0))]
        else:
            rows.append(("reconstruction", recon[:10]))
        first = next(l for l in model.layers[0].layers if l.weights)
        w = first.get_weights()[0]
        feats = w.T[:10] if w.ndim == 2 else w[:10, 0]
        rows.append(("features", feats))
        fig, axes = plt.subplots(len(rows), 10, figsize=(10, 1.1 * len(rows)))
        for r, (label, imgs) in enumerate(rows):
            for c in range(10):
                img = np.asarray(imgs[c])
                axes[r, c].imshow(img.reshape(int(round(np.sqrt(img.size))), -1), cmap="gray")
                axes[r, c].axis("off")
            axes[r, 0].set_title(label, fontsize=7, loc="left")
        fig.tight_layout()
        fig.savefig(f"{prefix}_{kind}.png", dpi=110)
        plt.close(fig)
        print(f"saved {prefix}_{kind}.png")


if __name__ == "__main__":
    main()
