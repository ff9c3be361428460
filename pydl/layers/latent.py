"""Layers of latent-variable models (deck 000's variational autoencoder).

``Sampling`` is the reparameterisation trick: instead of drawing z ~ N(μ, σ²) (which no gradient
can pass through), draw ε ~ N(0, I) and compute z = μ + σ ε, with σ = exp(½ log σ²). z is then a
differentiable function of μ and log σ², and the noise is an input like any other.
"""
import numpy as np

from .. import _C
from .base import Layer


class Sampling(Layer):
    """``Sampling()([z_mean, z_log_var])`` -> z = z_mean + exp(0.5 * z_log_var) * ε, ε ~ N(0, I)
    drawn from pydl's generator (``pydl.manual_seed`` makes it repeatable), in training and in
    inference alike, as the Keras VAE example's layer. ``noise=`` (an array of z's shape) fixes
    ε, for tests and for pictures. The gradient reaches both inputs:
    dz/dμ = 1, dz/d(log σ²) = ½ σ ε."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def _shapes(self, input_shape):
        if not (isinstance(input_shape, (list, tuple)) and len(input_shape) == 2
                and all(isinstance(s, (list, tuple)) for s in input_shape)):
            raise ValueError(f"{self.name}: Sampling takes two inputs [z_mean, z_log_var], got input shape "
                             f"{input_shape}")
        mean, log_var = (tuple(s) for s in input_shape)
        if mean != log_var:
            raise ValueError(f"{self.name}: z_mean and z_log_var must have the same shape, got samples of {mean} and "
                             f"{log_var}")
        return mean

    def build(self, input_shape):
        self._shapes(input_shape)

    def compute_output_shape(self, input_shape):
        return self._shapes(input_shape)

    def call(self, inputs, training=None, noise=None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"{self.name}: Sampling takes [z_mean, z_log_var], got {type(inputs).__name__}")
        mean, log_var = inputs
        if tuple(mean.shape) != tuple(log_var.shape):
            raise ValueError(f"{self.name}: z_mean and z_log_var must have the same shape, got {tuple(mean.shape)} "
                             f"and {tuple(log_var.shape)}")
        if noise is None:
            eps = _C.normal(tuple(mean.shape), 0.0, 1.0, dtype=mean.dtype)
        else:
            eps = np.asarray(noise)
            if eps.shape != tuple(mean.shape):
                raise ValueError(f"{self.name}: noise must have z's shape {tuple(mean.shape)}, got {eps.shape}")
            eps = _C.tensor(eps.astype(mean.dtype.name), dtype=mean.dtype)
        return mean + (log_var * 0.5).exp() * eps


def kl_divergence_normal(z_mean, z_log_var):
    """KL( N(μ, σ²) || N(0, I) ) per sample, summed over the latent units:
    -½ Σ_j (1 + log σ_j² - μ_j² - σ_j²). The VAE's regulariser; its batch mean is what the Keras
    VAE example adds to the reconstruction loss (``model.add_loss(kl.mean())``)."""
    if tuple(z_mean.shape) != tuple(z_log_var.shape):
        raise ValueError(f"kl_divergence_normal: z_mean and z_log_var must have the same shape, got "
                         f"{tuple(z_mean.shape)} and {tuple(z_log_var.shape)}")
    terms = z_log_var + 1.0 - z_mean * z_mean - z_log_var.exp()
    return terms.sum(axis=tuple(range(1, len(z_mean.shape)))) * -0.5
