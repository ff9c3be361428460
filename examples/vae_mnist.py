"""Course topic (deck 000, generative models): the variational autoencoder on MNIST.

The recognition model (encoder) maps an image x to the mean and log-variance of q(z|x); the
``Sampling`` layer draws z = μ + σ ε (the reparameterisation trick, so gradients reach μ and σ);
the generative model (decoder) maps z back to pixel probabilities p(x|z). Training maximises the
ELBO = E_q[log p(x|z)] - KL(q(z|x) || N(0, I)): a reconstruction term (binary crossentropy summed
over the pixels) and the KL term between two Gaussians, in closed form. The model is a subclass
of ``pydl.models.Model`` with its own ``train_step``, as in Keras 3's VAE example.

Printed: the test ELBO (nats per image) split into reconstruction and KL, for each latent size
asked (deck 000 compares 2, 5, 10 and 20 dimensions). ``--plot PREFIX`` saves the 2-D latent
space coloured by digit, a grid of digits decoded over the latent plane, and reconstructions
for each latent size (needs matplotlib). ``--conv`` uses a convolutional encoder and decoder.

    python examples/vae_mnist.py [--latent 2 5 10 20] [--epochs 10] [--plot vae] [--conv]
"""
import argparse

import numpy as np

import pydl
from pydl.datasets import load_mnist_or_digits
from pydl.layers import Conv2D, Conv2DTranspose, Dense, Flatten, Reshape, Sampling
from pydl.layers.latent import kl_divergence_normal
from pydl.losses import BinaryCrossentropy
from pydl.models import Model, Sequential


def mlp_parts(n_pixels, latent):
    x = pydl.Input((n_pixels,))
    h = Dense(256, activation="relu")(x)
    z_mean = Dense(latent, name="z_mean")(h)
    z_log_var = Dense(latent, name="z_log_var")(h)
    z = Sampling(name="z")([z_mean, z_log_var])
    encoder = Model(x, [z_mean, z_log_var, z], name="encoder")
    decoder = Sequential([pydl.Input((latent,)), Dense(256, activation="relu"),
                          Dense(n_pixels, activation="sigmoid")], name="decoder")
    return encoder, decoder


def conv_parts(side, latent):
    x = pydl.Input((1, side, side))
    h = Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    h = Conv2D(32, 3, strides=2, padding="same", activation="relu")(h)
    h = Dense(64, activation="relu")(Flatten()(h))
    z_mean = Dense(latent, name="z_mean")(h)
    z_log_var = Dense(latent, name="z_log_var")(h)
    z = Sampling(name="z")([z_mean, z_log_var])
    encoder = Model(x, [z_mean, z_log_var, z], name="encoder")
    q = side // 4
    decoder = Sequential([
        pydl.Input((latent,)), Dense(32 * q * q, activation="relu"), Reshape((32, q, q)),
        Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu"),
        Conv2DTranspose(1, 3, strides=2, padding="same", activation="sigmoid"),
    ], name="decoder")
    return encoder, decoder


class VAE(Model):
    """encoder -> (μ, log σ², z), decoder -> p(x|z); the loss is the negative ELBO per image."""

    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder, self.decoder = encoder, decoder
        self.bce = BinaryCrossentropy(reduction="none")
        self.total_tracker = pydl.metrics.Mean(name="loss")
        self.reconstruction_tracker = pydl.metrics.Mean(name="reconstruction")
        self.kl_tracker = pydl.metrics.Mean(name="kl")

    @property
    def metrics(self):
        return [self.total_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=None):
        return self.decoder(self.encoder(x, training=training)[2], training=training)

    def losses_of(self, x, training):
        z_mean, z_log_var, z = self.encoder(x, training=training)
        recon = self.decoder(z, training=training)
        pixels = int(np.prod(x.shape[1:]))
        flat = (lambda t: t.reshape(t.shape[0], pixels)) if len(x.shape) > 2 else (lambda t: t)
        # -log p(x|z): the crossentropy summed over the pixels (the loss's per-image mean times their count)
        reconstruction = (self.bce(flat(x), flat(recon)) * float(pixels)).mean()
        kl = kl_divergence_normal(z_mean, z_log_var).mean()
        return reconstruction + kl, reconstruction, kl

    def _track(self, total, reconstruction, kl):
        self.total_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        self.zero_grad()
        total, reconstruction, kl = self.losses_of(data, training=True)
        total.backward()
        self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
        return self._track(total, reconstruction, kl)

    def test_step(self, data):
        with pydl.no_grad():
            return self._track(*self.losses_of(data, training=False))


def train(latent, x_train, x_test, args, images):
    pydl.manual_seed(0)
    side = int(round(np.sqrt(np.prod(x_train.shape[1:]))))
    encoder, decoder = conv_parts(side, latent) if images else mlp_parts(x_train.shape[1], latent)
    vae = VAE(encoder, decoder, name=f"vae_{latent}d")
    vae.compile(optimizer=pydl.optimizers.Adam(1e-3))
    vae.fit(x_train, epochs=args.epochs, batch_size=128, verbose=2)
    return vae, vae.evaluate(x_test, batch_size=500, verbose=0, return_dict=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent", type=int, nargs="+", default=[2, 5, 10, 20], help="latent sizes to compare")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--train", type=int, default=60000, help="training images (a subset, for speed)")
    parser.add_argument("--conv", action="store_true", help="convolutional encoder and decoder")
    parser.add_argument("--plot", default=None, help="save PREFIX_latent.png, PREFIX_grid.png, PREFIX_recon.png")
    args = parser.parse_args()
    name, x_train, y_train, x_test, y_test = load_mnist_or_digits(images=args.conv)
    x_train = x_train[:args.train]
    print(f"{name}: {len(x_train)} training and {len(x_test)} test images; "
          f"{'convolutional' if args.conv else 'MLP'} VAE")

    runs = {}
    for latent in args.latent:
        print(f"\n{latent}-D latent space")
        runs[latent] = train(latent, x_train, x_test, args, args.conv)

    print("\ntest ELBO per image (nats; higher is better) = -(reconstruction + KL)\n")
    print("| latent size | test ELBO | reconstruction | KL |")
    print("|---|---|---|---|")
    for latent, (_, logs) in runs.items():
        print(f"| {latent} | {-logs['loss']:.2f} | {logs['reconstruction']:.2f} | {logs['kl']:.2f} |")

    if args.plot:
        plot(args.plot, runs, x_test, y_test)


def plot(prefix, runs, x_test, y_test):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no plots (pip install matplotlib)")
        return
    side = int(round(np.sqrt(np.prod(x_test.shape[1:]))))
    shape = x_test.shape[1:]
    if 2 in runs:
        vae = runs[2][0]
        z_mean = vae.encoder.predict(x_test, verbose=0)[0]
        fig, ax = plt.subplots(figsize=(6, 5))
        sc = ax.scatter(z_mean[:, 0], z_mean[:, 1], c=y_test.argmax(1), cmap="tab10", s=2)
        fig.colorbar(sc, ax=ax, label="digit")
        ax.set_xlabel("z[0]")
        ax.set_ylabel("z[1]")
        ax.set_title("test images' latent means (2-D VAE)")
        fig.savefig(f"{prefix}_latent.png", dpi=120)
        n = 15
        grid = np.array([[a, b] for b in np.linspace(2.5, -2.5, n) for a in np.linspace(-2.5, 2.5, n)], np.float32)
        digits = vae.decoder.predict(grid, verbose=0).reshape(n, n, side, side)
        fig, ax = plt.subplots(figsize=(6, 6))
        ax.imshow(digits.transpose(0, 2, 1, 3).reshape(n * side, n * side), cmap="gray")
        ax.axis("off")
        ax.set_title("decoded over the latent plane z in [-2.5, 2.5]²")
        fig.savefig(f"{prefix}_grid.png", dpi=120)
        print(f"saved {prefix}_latent.png and {prefix}_grid.png")
    k = 8
    fig, axes = plt.subplots(len(runs) + 1, k, figsize=(k, len(runs) + 1.4))
    axes = np.atleast_2d(axes)
    for j in range(k):
        axes[0, j].imshow(x_test[j].reshape(side, side), cmap="gray")
    axes[0, 0].set_title("input", fontsize=7, loc="left")
    for i, (latent, (vae, _)) in enumerate(runs.items(), start=1):
        z_mean = vae.encoder.predict(x_test[:k], verbose=0)[0]
        recon = vae.decoder.predict(z_mean, verbose=0).reshape((k,) + shape)
        for j in range(k):
            axes[i, j].imshow(recon[j].reshape(side, side), cmap="gray")
        axes[i, 0].set_title(f"{latent}-D", fontsize=7, loc="left")
    for ax in axes.flat:
        ax.axis("off")
    fig.tight_layout()
    fig.savefig(f"{prefix}_recon.png", dpi=120)
    print(f"saved {prefix}_recon.png")


if __name__ == "__main__":
    main()
