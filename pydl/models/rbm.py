"""The restricted Boltzmann machine and greedy layer-wise pretraining (deck 000, Hinton 2006).

A Bernoulli RBM has visible units v (the data, binary or scaled to [0, 1]) and hidden units h,
weights W (visible, hidden), a visible bias b and a hidden bias c. Its energy is
E(v, h) = -vᵀb - hᵀc - vᵀWh and p(v, h) ∝ exp(-E). The two conditionals factorise:

    p(h_j = 1 | v) = σ(c_j + Σ_i v_i W_ij)        p(v_i = 1 | h) = σ(b_i + Σ_j W_ij h_j)

so block Gibbs sampling alternates h ~ p(h|v) and v ~ p(v|h). The log-likelihood's gradient is
<v hᵀ>_data - <v hᵀ>_model; contrastive divergence (CD-k) estimates the model term with k Gibbs
steps started at the data, persistent CD (PCD) with a chain that carries on from one update to
the next. The C++ ops do the sampling and the estimate (pydl._C.rbm_hidden, rbm_visible, rbm_cd,
rbm_free_energy; kernels in cpp/src/kernels/{reference,cpu}/rbm.cpp); this class puts the
estimate into the parameters' ``.grad`` and lets any pydl optimizer apply it.

Stacking: ``pretrain_stack`` trains RBMs greedily, each on the hidden probabilities of the one
below; ``unroll`` turns the stack into a deep autoencoder (encoder W1..Wn, decoder Wnᵀ..W1ᵀ) to be
fine-tuned with backpropagation, as Hinton & Salakhutdinov (2006) did.
"""
import io
import json
import numbers
import zipfile

import numpy as np

from .. import _C
from .. import callbacks as _callbacks
from .. import optimizers as _optimizers

_FORMAT = "pydl-rbm"


def _positive_int(owner, name, value):
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{owner}: {name} must be a positive int, got {value!r}")
    return int(value)


class RBM:
    """A Bernoulli-Bernoulli RBM trained with CD-k or persistent CD.

    ``RBM(units, k=1, persistent=False, learning_rate=0.1, momentum=0.0, optimizer=None,
    weight_decay=0.0, init_std=0.01, dtype="float32", name=None)``

    - ``units``: hidden units. The visible width comes from the data at the first ``fit``.
    - ``k``: Gibbs steps per update (CD-1 is Hinton's usual choice).
    - ``persistent``: persistent CD (Tieleman 2008): the negative chain (one per batch row)
      continues across updates instead of restarting at the data.
    - ``learning_rate``, ``momentum``: those of the default optimizer, ``SGD(learning_rate,
      momentum)`` (Hinton's guide uses momentum 0.5-0.9). ``optimizer``: any pydl optimizer
      instead (then learning_rate and momentum must stay at their defaults).
    - ``weight_decay``: L2 penalty on W only, added to W's CD estimate (λW), as in Hinton's guide.
    - Weights start as N(0, init_std²), both biases at zero (sklearn's BernoulliRBM does the same).

    After ``fit``: ``transform(x)`` gives p(h|x) (the learned features), ``reconstruct(x)`` the
    mean-field reconstruction p(v | p(h|x)), ``gibbs(v, steps)`` samples, ``free_energy(x)`` and
    ``pseudo_likelihood(x)`` monitor the fit.
    """

    def __init__(self, units, k=1, persistent=False, learning_rate=0.1, momentum=0.0, optimizer=None,
                 weight_decay=0.0, init_std=0.01, dtype="float32", name=None):
        cls = type(self).__name__
        self.units = _positive_int(cls, "units", units)
        self.k = _positive_int(cls, "k", k)
        if not isinstance(persistent, (bool, np.bool_)):
            raise TypeError(f"{cls}: persistent must be a bool, got {persistent!r}")
        self.persistent = bool(persistent)
        for arg, value in (("learning_rate", learning_rate), ("momentum", momentum), ("weight_decay", weight_decay),
                           ("init_std", init_std)):
            if not isinstance(value, numbers.Real) or isinstance(value, bool) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{cls}: {arg} must be a finite number >= 0, got {value!r}")
        if optimizer is not None and not isinstance(optimizer, _optimizers.Optimizer):
            raise TypeError(f"{cls}: optimizer must be a pydl optimizer (e.g. pydl.optimizers.SGD(0.1, momentum=0.9)),"
                            f" got {optimizer!r}")
        if optimizer is not None and (learning_rate != 0.1 or momentum != 0.0):
            raise ValueError(f"{cls}: learning_rate and momentum set the default SGD optimizer; with optimizer= "
                             f"give them to that optimizer instead")
        self.learning_rate, self.momentum = float(learning_rate), float(momentum)
        self.optimizer = optimizer if optimizer is not None else \
            _optimizers.SGD(learning_rate=self.learning_rate, momentum=self.momentum)
        self.weight_decay = float(weight_decay)
        self.init_std = float(init_std)
        if dtype not in ("float32", "float64"):
            raise ValueError(f"{cls}: dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = dtype
        self.name = name or "rbm"
        self.kernel = self.hidden_bias = self.visible_bias = None
        self._chain = None
        self.history = None

    # ---------------------------------------------------------------- weights
    @property
    def built(self):
        return self.kernel is not None

    def build(self, n_visible):
        n_visible = _positive_int(self.name, "n_visible", n_visible)
        # no requires_grad: nothing backpropagates through an RBM; the optimizer gets rbm_cd's estimate
        self.kernel = _C.normal((n_visible, self.units), 0.0, self.init_std, dtype=self.dtype)
        self.hidden_bias = _C.zeros(self.units, dtype=self.dtype)
        self.visible_bias = _C.zeros(n_visible, dtype=self.dtype)
        self._chain = None

    @property
    def n_visible(self):
        return None if self.kernel is None else self.kernel.shape[0]

    @property
    def weights(self):
        """[kernel (visible, hidden), hidden_bias (hidden,), visible_bias (visible,)]."""
        return [self.kernel, self.hidden_bias, self.visible_bias] if self.built else []

    def get_weights(self):
        return [w.detach().numpy().copy() for w in self.weights]

    def set_weights(self, weights):
        weights = [np.asarray(w) for w in weights]
        if len(weights) != 3:
            raise ValueError(f"{self.name}: set_weights takes [kernel, hidden_bias, visible_bias], got "
                             f"{len(weights)} arrays")
        kernel, c, b = weights
        if kernel.ndim != 2 or kernel.shape[1] != self.units or c.shape != (self.units,) or \
                b.shape != (kernel.shape[0],):
            raise ValueError(f"{self.name}: set_weights expects kernel (visible, {self.units}), hidden_bias "
                             f"({self.units},), visible_bias (visible,); got {kernel.shape}, {c.shape}, {b.shape}")
        if not self.built or self.n_visible != kernel.shape[0]:
            self.build(kernel.shape[0])
        for t, a in zip(self.weights, (kernel, c, b)):
            t.detach().numpy()[...] = a
        self._chain = None

    # ---------------------------------------------------------------- data
    def _as_batch(self, x, what="x"):
        a = x.detach().numpy() if isinstance(x, _C.Tensor) else np.asarray(x)
        if a.dtype.kind not in "fiub":
            raise TypeError(f"{self.name}.{what}: expects numbers in [0, 1], got dtype {a.dtype}")
        if a.ndim < 2:
            raise ValueError(f"{self.name}.{what}: expects a batch (samples, features...), got shape {a.shape}")
        a = a.reshape(a.shape[0], -1).astype(self.dtype, copy=False)
        if self.built and a.shape[1] != self.n_visible:
            raise ValueError(f"{self.name}.{what}: this RBM has {self.n_visible} visible units, got samples of "
                             f"{a.shape[1]} features (input shape {np.shape(x)})")
        bad = ~((a >= 0) & (a <= 1))
        if bad.any():
            i = np.flatnonzero(bad.reshape(-1))[0]
            raise ValueError(f"{self.name}.{what}: a Bernoulli RBM takes values in [0, 1] (binary, or scaled such "
                             f"as x / 255), got {a.reshape(-1)[i]} at flat index {i} of shape {a.shape}")
        return np.ascontiguousarray(a)

    def _tensor(self, a):
        return _C.tensor(a, dtype=self.dtype)

    def _check_built(self, what):
        if not self.built:
            raise RuntimeError(f"{self.name}.{what}: the RBM is not trained yet; call fit(x) (or set_weights) first")

    # ---------------------------------------------------------------- training
    def fit(self, x, epochs=10, batch_size=100, shuffle=True, verbose=1, monitor_size=1000):
        """Train with CD-k (or PCD) over ``epochs`` passes of mini-batches; returns a History whose
        ``history`` holds, per epoch, ``reconstruction_error`` (the mean over samples and units of
        (v - p(v | p(h|v)))², averaged over the epoch's batches) and ``pseudo_likelihood`` (the
        mean log pseudo-likelihood of the first ``monitor_size`` samples, as sklearn's
        ``score_samples``)."""
        a = self._as_batch(x, "fit")
        epochs = _positive_int(self.name, "epochs", epochs)
        batch_size = _positive_int(self.name, "batch_size", batch_size)
        if verbose not in (0, 1, 2):
            raise ValueError(f"{self.name}.fit: verbose must be 0, 1 or 2, got {verbose!r}")
        n = a.shape[0]
        if n == 0:
            raise ValueError(f"{self.name}.fit: got no samples (input shape {a.shape})")
        if not self.built:
            self.build(a.shape[1])
        history = _callbacks.History()
        history.on_train_begin()
        params = self.weights
        for epoch in range(epochs):
            order = np.argsort(_C.rand(n).numpy(), kind="stable") if shuffle else np.arange(n)
            errors = []
            for start in range(0, n, batch_size):
                v0 = self._tensor(a[order[start:start + batch_size]])
                errors.append(self._update(v0, params))
            logs = {"reconstruction_error": float(np.mean(errors)),
                    "pseudo_likelihood": float(np.mean(self.pseudo_likelihood(a[:monitor_size])))}
            history.on_epoch_end(epoch, logs)
            if verbose:
                print(f"{self.name} epoch {epoch + 1}/{epochs} - reconstruction_error: "
                      f"{logs['reconstruction_error']:.4f} - pseudo_likelihood: {logs['pseudo_likelihood']:.4f}")
        self.history = history
        return history

    def _update(self, v0, params):
        """One CD update from the batch v0; returns the batch's reconstruction error."""
        chain = None
        if self.persistent:
            b = v0.shape[0]
            if self._chain is None or self._chain.shape[0] < b:
                self._chain = v0.detach().numpy().copy()
            chain = self._tensor(self._chain[:b])
        dw, db, dc, vk, p0 = _C.rbm_cd(v0, self.kernel, self.visible_bias, self.hidden_bias, self.k, chain)
        if self.persistent:
            self._chain[:v0.shape[0]] = vk.numpy()
        if self.weight_decay:
            dw = dw + self.kernel.detach() * self.weight_decay
        self.optimizer.apply([dw, dc, db], params)
        # reconstruction from the data phase's hidden probabilities, before this update's change
        (pv,) = _C.rbm_visible(p0, self.kernel.detach(), self.visible_bias.detach())
        return float(np.mean((v0.numpy() - pv.numpy()) ** 2))

    # ---------------------------------------------------------------- using it
    def transform(self, x):
        """p(h = 1 | x): the hidden units' probabilities, the features the RBM learned."""
        self._check_built("transform")
        (p,) = _C.rbm_hidden(self._tensor(self._as_batch(x, "transform")), self.kernel.detach(),
                             self.hidden_bias.detach())
        return p.numpy()

    def reconstruct(self, x):
        """The mean-field reconstruction p(v = 1 | h = p(h|x))."""
        self._check_built("reconstruct")
        (p,) = _C.rbm_visible(_C.tensor(self.transform(x), dtype=self.dtype), self.kernel.detach(),
                              self.visible_bias.detach())
        return p.numpy()

    def gibbs(self, v, steps=1):
        """``steps`` rounds of block Gibbs sampling from v: h ~ p(h|v), v ~ p(v|h). Returns the
        last binary visible sample."""
        self._check_built("gibbs")
        steps = _positive_int(self.name, "steps", steps)
        cur = self._tensor(self._as_batch(v, "gibbs"))
        w, b, c = self.kernel.detach(), self.visible_bias.detach(), self.hidden_bias.detach()
        for _ in range(steps):
            _, h = _C.rbm_hidden(cur, w, c, True)
            _, cur = _C.rbm_visible(h, w, b, True)
        return cur.numpy()

    def free_energy(self, x):
        """F(v) = -vᵀb - Σ_j softplus(c_j + (vW)_j) per sample; p(v) ∝ exp(-F(v))."""
        self._check_built("free_energy")
        return _C.rbm_free_energy(self._tensor(self._as_batch(x, "free_energy")), self.kernel.detach(),
                                  self.visible_bias.detach(), self.hidden_bias.detach()).numpy()

    def pseudo_likelihood(self, x):
        """Per sample, V · log σ(F(ṽ) - F(v)) with ṽ = v with one randomly chosen unit flipped
        (1 - v_i): the stochastic estimate of the log pseudo-likelihood sklearn's BernoulliRBM
        reports. Higher is better. The unit comes from pydl's generator (pydl.manual_seed)."""
        self._check_built("pseudo_likelihood")
        v = self._as_batch(x, "pseudo_likelihood")
        n, width = v.shape
        if n == 0:
            return np.zeros(0, dtype=self.dtype)
        idx = np.minimum((_C.rand(n).numpy() * width).astype(np.int64), width - 1)
        flipped = v.copy()
        rows = np.arange(n)
        flipped[rows, idx] = 1 - flipped[rows, idx]
        d = self.free_energy(flipped).astype(np.float64) - self.free_energy(v).astype(np.float64)
        # log σ(d) = -softplus(-d), written so it never overflows
        return width * -np.logaddexp(0.0, -d)

    # ---------------------------------------------------------------- saving (no pickle)
    def get_config(self):
        return {"units": self.units, "k": self.k, "persistent": self.persistent, "learning_rate": self.learning_rate,
                "momentum": self.momentum, "weight_decay": self.weight_decay, "init_std": self.init_std, "dtype": self.dtype, "name": self.name}

    def save(self, path):
        """A zip of rbm.json (the config) and weights.npz; the optimizer's state is not saved."""
        self._check_built("save")
        buf = io.BytesIO()
        np.savez(buf, **{f"w{i}": w for i, w in enumerate(self.get_weights())})
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("rbm.json", json.dumps({"format": _FORMAT, "version": 1, "config": self.get_config()}))
            zf.writestr("weights.npz", buf.getvalue())

    @classmethod
    def load(cls, path):
        try:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("rbm.json"))
                with np.load(io.BytesIO(zf.read("weights.npz")), allow_pickle=False) as data:
                    weights = [data[f"w{i}"] for i in range(len(data.files))]
        except (KeyError, ValueError, zipfile.BadZipFile) as e:
            raise ValueError(f"RBM.load: {path} is not a pydl RBM file ({e})") from None
        if meta.get("format") != _FORMAT:
            raise ValueError(f"RBM.load: {path} is not a pydl RBM file (format {meta.get('format')!r})")
        rbm = cls(**meta["config"])
        rbm.set_weights(weights)
        return rbm

    def __repr__(self):
        shape = f"{self.n_visible}x{self.units}" if self.built else f"?x{self.units}"
        return f"<RBM {self.name} {shape} k={self.k}{' persistent' if self.persistent else ''}>"


def pretrain_stack(x, units, epochs=10, batch_size=100, verbose=1, **rbm_kwargs):
    """Greedy layer-wise pretraining (Hinton, Osindero & Teh 2006): an RBM per entry of ``units``,
    each trained on the hidden probabilities p(h|v) of the one below it. ``rbm_kwargs`` go to
    every RBM (k, persistent, learning_rate, weight_decay...). Returns the list of trained RBMs."""
    if isinstance(units, numbers.Integral):
        units = [units]
    units = list(units)
    if not units:
        raise ValueError("pretrain_stack: units must name at least one layer, got []")
    for key in ("optimizer", "name"):
        if key in rbm_kwargs:
            raise ValueError(f"pretrain_stack: {key}= would be shared by every RBM; build the RBMs yourself to "
                             f"give each its own")
    rbms, data = [], x
    for i, u in enumerate(units):
        rbm = RBM(u, name=f"rbm_{i}", **rbm_kwargs)
        rbm.fit(data, epochs=epochs, batch_size=batch_size, verbose=verbose)
        data = rbm.transform(data)
        rbms.append(rbm)
    return rbms


def unroll(rbms, output_activation="sigmoid", name="deep_autoencoder"):
    """The deep autoencoder of Hinton & Salakhutdinov (2006) from a pretrained stack: an encoder of
    Dense(sigmoid) layers with kernels W1..Wn and the hidden biases, a decoder with kernels
    Wnᵀ..W1ᵀ and the visible biases (the last layer's activation ``output_activation``). The
    weights are copies, untied from then on, ready to be fine-tuned with backpropagation.
    Returns ``Sequential([encoder, decoder])``; ``model.layers[0]`` is the encoder."""
    from ..layers import Dense, Input
    from .sequential import Sequential

    rbms = list(rbms)
    if not rbms or not all(isinstance(r, RBM) and r.built for r in rbms):
        raise ValueError("unroll: give a non-empty list of trained RBMs (pretrain_stack(...) returns one)")
    for lower, upper in zip(rbms, rbms[1:]):
        if upper.n_visible != lower.units:
            raise ValueError(f"unroll: {upper.name} has {upper.n_visible} visible units but {lower.name} below it has "
                             f"{lower.units} hidden units; each RBM must be trained on the one below")
    dtype = rbms[0].dtype
    enc_layers = [Input((rbms[0].n_visible,))]
    for r in rbms:
        enc_layers.append(Dense(r.units, activation="sigmoid", dtype=dtype))
    encoder = Sequential(enc_layers, name="encoder")
    dec_layers = [Input((rbms[-1].units,))]
    for i, r in enumerate(reversed(rbms)):
        last = i == len(rbms) - 1
        dec_layers.append(Dense(r.n_visible, activation=output_activation if last else "sigmoid", dtype=dtype))
    decoder = Sequential(dec_layers, name="decoder")
    for layer, r in zip(encoder.layers, rbms):
        w, c, _ = r.get_weights()
        layer.set_weights([w, c])
    for layer, r in zip(decoder.layers, reversed(rbms)):
        w, _, b = r.get_weights()
        layer.set_weights([w.T.copy(), b])
    return Sequential([encoder, decoder], name=name)
