"""Course topic (deck 000, generative models): the generative adversarial network on MNIST.

A generator G maps noise z to an image; a discriminator D says how likely an image is real. They
are trained in turn: D on real images (label 1, smoothed to 0.9) and on G's images (label 0); then
G through the frozen D, with the label "real", so that G's gradient comes only through D.

Two ways to write the same training, both run by ``--mode``:
- ``train_on_batch`` (the Keras-GAN pattern): D compiled; ``D.trainable = False``; the stack
  ``Sequential([G, D])`` compiled: Keras's compile-time freezing trains only G in the stack while
  ``D.train_on_batch`` still trains D;
- ``train_step`` (Keras 3's GAN example): a ``Model`` subclass with its own ``train_step``, one
  optimizer for D and one for G.
``--dcgan`` uses the convolutional pair (Conv2DTranspose, BatchNormalization, LeakyReLU).

Printed per epoch: D's and G's losses and how far G's digits are from real ones (the mean
distance from a generated image to its nearest training image; random noise scores far worse).
``--plot PREFIX`` saves the digits a fixed latent batch gives after each epoch and the loss curves.

    python examples/gan_mnist.py [--mode train_on_batch|train_step] [--dcgan] [--epochs 10] [--plot gan]
"""
import argparse
import warnings

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.layers import BatchNormalization, Conv2D, Conv2DTranspose, Dense, Flatten, LeakyReLU, Reshape
from pydl.losses import BinaryCrossentropy
from pydl.models import Model, Sequential

LATENT = 64


def mlp_pair(pixels):
    g = Sequential([pydl.Input((LATENT,)), Dense(256), LeakyReLU(0.2), BatchNormalization(momentum=0.8),
                    Dense(512), LeakyReLU(0.2), BatchNormalization(momentum=0.8),
                    Dense(pixels, activation="tanh")], name="generator")
    d = Sequential([pydl.Input((pixels,)), Dense(512), LeakyReLU(0.2), Dense(256), LeakyReLU(0.2),
                    Dense(1, activation="sigmoid")], name="discriminator")
    return g, d


def dcgan_pair(side):
    q = side // 4
    g = Sequential([pydl.Input((LATENT,)), Dense(64 * q * q), LeakyReLU(0.2), Reshape((64, q, q)),
                    Conv2DTranspose(64, 4, strides=2, padding="same"), BatchNormalization(momentum=0.8),
                    LeakyReLU(0.2),
                    Conv2DTranspose(32, 4, strides=2, padding="same"), BatchNormalization(momentum=0.8),
                    LeakyReLU(0.2),
                    Conv2D(1, 5, padding="same", activation="tanh")], name="generator")
    d = Sequential([pydl.Input((1, side, side)), Conv2D(32, 3, strides=2, padding="same"), LeakyReLU(0.2),
                    Conv2D(64, 3, strides=2, padding="same"), LeakyReLU(0.2), Flatten(),
                    Dense(1, activation="sigmoid")], name="discriminator")
    return g, d


def adam():
    return pydl.optimizers.Adam(2e-4, beta_1=0.5)


class GAN(Model):
    """Keras 3's GAN example: compile(d_optimizer, g_optimizer, loss_fn); train_step(real)."""

    def __init__(self, generator, discriminator, smooth=0.9, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.smooth = generator, discriminator, smooth
        self.d_tracker = pydl.metrics.Mean(name="d_loss")
        self.g_tracker = pydl.metrics.Mean(name="g_loss")

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

    @property
    def metrics(self):
        return [self.d_tracker, self.g_tracker]

    def train_step(self, real):
        n = real.shape[0]
        d_w, g_w = self.discriminator.trainable_weights, self.generator.trainable_weights
        # 1. D: real images are 1 (smoothed), G's are 0; G's images are constants here
        with pydl.no_grad():
            fake = self.generator(pydl.randn(n, LATENT), training=True)
        self.discriminator.zero_grad()
        d_loss = self.loss_fn(np.full((n, 1), self.smooth, np.float32), self.discriminator(real, training=True)) + \
            self.loss_fn(np.zeros((n, 1), np.float32), self.discriminator(fake, training=True))
        d_loss.backward()
        self.d_optimizer.apply([w.grad for w in d_w], d_w)
        # 2. G: through D, with the label "real"; only G's weights change
        self.zero_grad()
        g_loss = self.loss_fn(np.ones((n, 1), np.float32),
                              self.discriminator(self.generator(pydl.randn(n, LATENT), training=True), training=True))
        g_loss.backward()
        self.g_optimizer.apply([w.grad for w in g_w], g_w)
        self.d_tracker.update_state(d_loss * 0.5)
        self.g_tracker.update_state(g_loss)
        return {"d_loss": self.d_tracker.result(), "g_loss": self.g_tracker.result()}


def nearest_distance(images, reference):
    """Mean over ``images`` of the L2 distance to the nearest row of ``reference`` (flat, in [-1, 1])."""
    a = images.reshape(len(images), -1).astype(np.float64)
    b = reference.reshape(len(reference), -1).astype(np.float64)
    d2 = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
    return float(np.sqrt(np.maximum(d2.min(1), 0)).mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["train_on_batch", "train_step"], default="train_on_batch")
    parser.add_argument("--dcgan", action="store_true")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train", type=int, default=60000, help="training images (a subset, for speed)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--plot", default=None, help="save PREFIX_progress.png and PREFIX_losses.png")
    args = parser.parse_args()
    pydl.manual_seed(0)
    name, x, _, _, _ = load_mnist_or_digits(images=args.dcgan)
    x = x[:args.train] * 2 - 1  # tanh's range
    side = int(round(np.sqrt(np.prod(x.shape[1:]))))
    g, d = dcgan_pair(side) if args.dcgan else mlp_pair(x.shape[1])
    reference = x[:2000]
    fixed = pydl.randn(16, LATENT).numpy()
    noise_score = nearest_distance(np.random.default_rng(0).uniform(-1, 1, (64,) + x.shape[1:]), reference)
    print(f"{name}: {len(x)} images; {'DCGAN' if args.dcgan else 'MLP GAN'} trained with {args.mode}; "
          f"uniform noise is {noise_score:.2f} from its nearest real digit")

    bce = BinaryCrossentropy()
    history, snapshots = [], []
    steps = len(x) // args.batch_size
    if args.mode == "train_on_batch":
        d.compile(adam(), "binary_crossentropy")
        d.trainable = False  # in the stack only: d was compiled while trainable
        combined = Sequential([g, d], name="combined")
        combined.compile(adam(), "binary_crossentropy")
        warnings.filterwarnings("ignore", message=".*trainable weights changed since the model was compiled")
        rng = np.random.default_rng(0)
        real_y = np.full((args.batch_size, 1), 0.9, np.float32)
        fake_y = np.zeros((args.batch_size, 1), np.float32)
        ones = np.ones((args.batch_size, 1), np.float32)
        for epoch in range(args.epochs):
            d_sum = g_sum = 0.0
            order = rng.permutation(len(x))
            for s in range(steps):
                real = x[order[s * args.batch_size:(s + 1) * args.batch_size]]
                fake = g.predict(pydl.randn(args.batch_size, LATENT).numpy(), verbose=0)
                d_sum += 0.5 * (d.train_on_batch(real, real_y) + d.train_on_batch(fake, fake_y))
                g_sum += combined.train_on_batch(pydl.randn(args.batch_size, LATENT).numpy(), ones)
            history.append((d_sum / steps, g_sum / steps))
            snapshots.append(g.predict(fixed, verbose=0))
            report(epoch, history[-1], snapshots[-1], reference)
    else:
        gan = GAN(g, d, name="gan")
        gan.compile(d_optimizer=adam(), g_optimizer=adam(), loss_fn=bce)

        class Snapshot(pydl.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                history.append((logs["d_loss"], logs["g_loss"]))
                snapshots.append(g.predict(fixed, verbose=0))
                report(epoch, history[-1], snapshots[-1], reference)

        gan.fit(x, epochs=args.epochs, batch_size=args.batch_size, verbose=0, callbacks=[Snapshot()])

    print("\n| epoch | D loss | G loss | distance to nearest real digit |")
    print("|---|---|---|---|")
    for e, ((dl, gl), snap) in enumerate(zip(history, snapshots), start=1):
        print(f"| {e} | {dl:.4f} | {gl:.4f} | {nearest_distance(snap, reference):.2f} |")
    if args.plot:
        plot(args.plot, history, snapshots, side)


def report(epoch, losses, snapshot, reference):
    print(f"epoch {epoch + 1}: d_loss {losses[0]:.4f} - g_loss {losses[1]:.4f} - "
          f"distance to nearest real digit {nearest_distance(snapshot, reference):.2f}")


def plot(prefix, history, snapshots, side):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return
    rows = len(snapshots)
    fig, axes = plt.subplots(rows, 16, figsize=(16 * 0.6, rows * 0.65))
    axes = np.atleast_2d(axes)
    for r, snap in enumerate(snapshots):
        for c in range(16):
            axes[r, c].imshow(snap[c].reshape(side, side), cmap="gray", vmin=-1, vmax=1)
            axes[r, c].axis("off")
        axes[r, 0].set_title(f"epoch {r + 1}", fontsize=6, loc="left")
    fig.tight_layout()
    fig.savefig(f"{prefix}_progress.png", dpi=110)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    h = np.array(history)
    ax.plot(range(1, len(h) + 1), h[:, 0], label="D loss")
    ax.plot(range(1, len(h) + 1), h[:, 1], label="G loss")
    ax.set_xlabel("epoch")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{prefix}_losses.png", dpi=110)
    print(f"saved {prefix}_progress.png and {prefix}_losses.png")


if __name__ == "__main__":
    main()
