"""Course topic: why RNNs are hard to train, vanishing and exploding gradients (deck 003,
"Backpropagation through time", "Why?": w = 1 -> y^1000 = 1, w = 1.01 -> y^1000 ~ 20000,
w = 0.99 -> y^1000 ~ 0; "Helpful techniques: LSTM can deal with gradient vanishing (not
gradient explosion) ... unless the forget gate is closed, the influence does not vanish"; deck
004's vanishing/exploding gradients and clipping).

1. The slide's toy network: a 1-unit linear RNN (input weight 1, recurrent weight w, no bias)
   fed 1 then 999 zeros outputs y^1000 = w^999 (the slide rounds 1.01^999 = 20751 and 1.01^1000
   = 20959 to "20000"), and d y^1000 / d w = 999 w^998: huge for w = 1.01, tiny for w = 0.99. One
   SGD step on that gradient throws w far away; the same step with clipnorm=1 moves it by at most
   the learning rate.
2. A long dependency: the label is the sign of the first of --steps inputs (the others noise).
   SimpleRNN, GRU and LSTM (Keras's initialisation: forget-gate bias 1), and an LSTM whose forget
   gates start open (bias 5), trained the same way with and without clipnorm=1; the held-out
   accuracy is printed beside how much gradient reaches the first step at initialisation,
   ||d loss / d x_0|| / ||d loss / d x_T-1|| (``pydl.utils.gradient_through_time``), drawn per
   step with --plot PATH (matplotlib optional).

    python examples/exploding_gradients.py [--steps 100] [--train 2000] [--epochs 8] [--plot grads.png]

Measured here (--steps 100, the defaults, seeds 0, 1 and 2): at initialisation the gradient
reaching the first step is 1e-5..5e-5 of the last step's for SimpleRNN, 6e-10..4e-7 for Keras's
LSTM (forget gates sigmoid(1) = 0.73 per step) and 1e-21..4e-19 for GRU, but 4..20 times larger for
the LSTM with open forget gates: the slide's "unless the forget gate is closed". GRU and the
default LSTM stayed at chance in all six runs; the open-gate LSTM learned the task in 5 of 6
(accuracy 0.97-1.0); SimpleRNN learned it in 1 of 3 runs without clipping and 3 of 3 with
clipnorm=1 (clipping helped it, as the slides say). Training from so little
signal is erratic: other seeds and sizes give other counts (with --train 800 --epochs 6 the
default LSTM learned it once). Keras's orthogonal recurrent kernel keeps a SimpleRNN's small
activations nearly norm-preserving, so on short sequences (--steps 30) SimpleRNN learns this task
readily and the default LSTM does not.
"""
import argparse
import sys

import numpy as np

import pydl
import pydl.functional as F
from pydl.layers import GRU, LSTM, Dense, SimpleRNN
from pydl.models import Sequential
from pydl.utils import gradient_through_time
from pydl.utils.plots import get_pyplot, save_figure


def toy_rnn(w, steps=1000):
    """y^steps of the slide's 1-unit linear RNN and d y^steps / d w, by pydl's simple_rnn op."""
    x = np.zeros((1, steps, 1))
    x[0, 0, 0] = 1.0
    kernel = pydl.tensor(np.ones((1, 1)), dtype=pydl.float64)
    rec = pydl.tensor(np.full((1, 1), w), dtype=pydl.float64, requires_grad=True)
    _, last = F.simple_rnn(pydl.tensor(x, dtype=pydl.float64), kernel, rec, None, activation="linear")
    last.sum().backward()
    return float(last.detach().numpy()[0, 0]), float(rec.grad.numpy()[0, 0])


def one_sgd_step(w, clipnorm, lr=1e-4, steps=1000):
    """w after one SGD step on (y^steps - 0)^2 for the toy RNN, with or without clipping."""
    pydl.manual_seed(0)
    model = Sequential([SimpleRNN(1, activation="linear", use_bias=False, input_shape=(steps, 1))])
    model.set_weights([np.ones((1, 1), np.float32), np.full((1, 1), w, np.float32)])
    model.compile(optimizer=pydl.optimizers.SGD(lr, clipnorm=clipnorm), loss="mse")
    x = np.zeros((1, steps, 1), np.float32)
    x[0, 0, 0] = 1.0
    model.train_on_batch(x, np.zeros((1, 1), np.float32))
    return float(model.get_weights()[1][0, 0])


def long_dependency(n, steps, noise, rng):
    x = (noise * rng.normal(size=(n, steps, 1))).astype(np.float32)
    x[:, 0, 0] = rng.choice([-1.0, 1.0], size=n)
    return x, (x[:, 0, :] > 0).astype(np.float32)


def build(kind, steps, units):
    cell = {"SimpleRNN": SimpleRNN, "GRU": GRU}.get(kind, LSTM)
    model = Sequential([cell(units, input_shape=(steps, 1)), Dense(1, activation="sigmoid")])
    if kind == "LSTM, forget gates open":
        k, r, b = model.layers[0].get_weights()
        b[units:2 * units] = 5.0  # Keras's gate order i, f, c, o: forget bias 5, sigmoid(5) = 0.993 per step
        model.layers[0].set_weights([k, r, b])
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--noise", type=float, default=0.5)
    parser.add_argument("--train", type=int, default=2000)
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--units", type=int, default=16)
    parser.add_argument("--plot", default=None, help="save the gradient-through-time plot to this file")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    print("1. The slide's toy RNN: input 1 then zeros, y^t = w y^(t-1) + x^t, after 1000 steps\n")
    print("| w | y^1000 (pydl RNN) | w^999 (NumPy) | d y^1000 / d w (pydl) | 999 w^998 (NumPy) |")
    print("|---|---|---|---|---|")
    for w in (1.0, 1.01, 0.99, 0.01):
        y, g = toy_rnn(w)
        print(f"| {w} | {y:.6g} | {w ** 999:.6g} | {g:.6g} | {999 * w ** 998:.6g} |")
    print(f"\n(1.01^1000 = {1.01 ** 1000:.6g}, 0.99^1000 = {0.99 ** 1000:.3g}: the slide's 20000 and 0)")
    for clip in (None, 1.0):
        w = one_sgd_step(1.01, clip)
        print(f"one SGD step (lr 1e-4) on (y^1000)^2 from w = 1.01, clipnorm={clip}: w = {w:.6g}")

    print(f"\n2. The sign of the first of {args.steps} inputs (the rest noise of std {args.noise}), "
          f"{args.train} training sequences, {args.epochs} epochs, Adam(1e-2)\n")
    rng = np.random.default_rng(args.seed)
    x_tr, y_tr = long_dependency(args.train, args.steps, args.noise, rng)
    x_te, y_te = long_dependency(500, args.steps, args.noise, rng)
    kinds = ["SimpleRNN", "GRU", "LSTM", "LSTM, forget gates open"]
    curves, rows = {}, []
    for kind in kinds:
        for clip in (None, 1.0):
            pydl.manual_seed(args.seed)
            model = build(kind, args.steps, args.units)
            model.compile(optimizer=pydl.optimizers.Adam(1e-2, clipnorm=clip), loss="binary_crossentropy")
            if clip is None:
                curves[kind] = gradient_through_time(model, x_te[:128], y_te[:128])
            history = model.fit(x_tr, y_tr, batch_size=32, epochs=args.epochs, verbose=0)
            acc = float(np.mean((model.predict(x_te, verbose=0) > 0.5) == (y_te > 0.5)))
            rows.append((kind, clip, curves[kind][0] / curves[kind][-1], history.history["loss"][-1], acc))
    print("| cell | clipnorm | gradient at step 0 / at the last step (at initialisation) | final training loss "
          "| held-out accuracy |")
    print("|---|---|---|---|---|")
    for kind, clip, ratio, loss, acc in rows:
        print(f"| {kind} | {clip} | {ratio:.3g} | {loss:.4f} | {acc:.3f} |")

    if args.plot:
        plt = get_pyplot()
        if plt is None:  # it has said why
            return 0
        fig, ax = plt.subplots(figsize=(7, 4))
        for kind, g in curves.items():
            ax.semilogy(range(args.steps), g, label=kind)
        ax.set_xlabel("time step t")
        ax.set_ylabel("||d loss / d x_t|| (at initialisation)")
        ax.set_title("how much gradient reaches each time step")
        ax.legend()
        fig.tight_layout()
        save_figure(fig, args.plot)
    return 0


if __name__ == "__main__":
    sys.exit(main())
