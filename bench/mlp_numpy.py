"""The reference: the same networks in plain NumPy, forward and hand-written backward.

Used by bench/mlp.py as the "what NumPy alone does" baseline (OpenBLAS for the matrix
products). Layers are y = x W + b (Keras's layout), float32 throughout.
"""
import numpy as np


def glorot(rng, n_in, n_out):
    limit = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-limit, limit, (n_in, n_out)).astype(np.float32)


class NumpyMLP:
    """sizes e.g. [784, 500, 500, 10]; hidden activation 'sigmoid', 'relu' or 'tanh';
    output 'softmax' or 'sigmoid'; loss 'mse' or 'crossentropy'; optimizer 'sgd' or 'adam'."""

    def __init__(self, sizes, hidden, output, loss, optimizer, lr, seed=0):
        rng = np.random.default_rng(seed)
        self.W = [glorot(rng, a, b) for a, b in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(b, np.float32) for b in sizes[1:]]
        self.hidden, self.output, self.loss, self.opt, self.lr = hidden, output, loss, optimizer, np.float32(lr)
        if optimizer == "adam":
            self.m = [np.zeros_like(p) for p in self.W + self.b]
            self.v = [np.zeros_like(p) for p in self.W + self.b]
            self.t = 0

    def _act(self, z, kind):
        if kind == "relu":
            return np.maximum(z, 0, out=z)
        if kind == "tanh":
            return np.tanh(z, out=z)
        if kind == "sigmoid":
            return np.divide(1, 1 + np.exp(-z), out=z)
        e = np.exp(z - z.max(1, keepdims=True))  # softmax
        return e / e.sum(1, keepdims=True)

    def _dact(self, a, kind):  # derivative from the activation's output
        if kind == "relu":
            return (a > 0).astype(np.float32)
        if kind == "tanh":
            return 1 - a * a
        return a * (1 - a)

    def step(self, x, y):
        acts = [x]
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = acts[-1] @ W + b
            acts.append(self._act(z, self.hidden if i < len(self.W) - 1 else self.output))
        out, n = acts[-1], len(x)
        if self.loss == "crossentropy":  # with softmax/sigmoid: d/dz = (p - y) / n
            dz = (out - y) / n
        else:  # mse: mean over all elements
            dout = 2 * (out - y) / out.size
            if self.output == "softmax":  # softmax Jacobian: p * (g - sum(g p))
                dz = out * (dout - (dout * out).sum(1, keepdims=True))
            else:
                dz = dout * self._dact(out, self.output)
        grads_W, grads_b = [None] * len(self.W), [None] * len(self.W)
        for i in range(len(self.W) - 1, -1, -1):
            grads_W[i] = acts[i].T @ dz
            grads_b[i] = dz.sum(0)
            if i:
                dz = (dz @ self.W[i].T) * self._dact(acts[i], self.hidden)
        params, grads = self.W + self.b, grads_W + grads_b
        if self.opt == "sgd":
            for p, g in zip(params, grads):
                p -= self.lr * g
        else:  # Adam, Keras's form
            self.t += 1
            alpha = self.lr * np.sqrt(1 - 0.999 ** self.t) / (1 - 0.9 ** self.t)
            for p, g, m, v in zip(params, grads, self.m, self.v):
                m += (g - m) * 0.1
                v += (g * g - v) * 0.001
                p -= alpha * m / (np.sqrt(v) + 1e-7)
