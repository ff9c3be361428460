"""Training throughput of small MLPs: pydl beside PyTorch CPU (when installed) and a plain
NumPy transcription (bench/mlp_numpy.py), interleaved A/B in one run, medians of repeats.

    python bench/mlp.py [--repeats 5] [--full-epoch]

Cases (MNIST-shaped random data: 784 inputs, 10 classes, the work does not depend on values):
  (a) 784-500-500-10 sigmoid, softmax + MSE, SGD 0.1, batch 100   (the course slide's setting)
  (b) 784-500-500-10 ReLU, softmax + crossentropy, Adam, batch 32
  (c) the same, batch 256
  (d) 2-8-1 tanh/sigmoid on XOR, MSE, SGD 0.5, batch 4              (pure per-step overhead)
Each framework runs its idiomatic loop: pydl `model.fit`, PyTorch a plain loop with
zero_grad/backward/step, NumPy a forward and hand-written backward per batch.

Each timing runs in a fresh subprocess that imports one framework only, and the frameworks
alternate (pydl, numpy, torch, pydl, ...): in one process their idle thread pools (OpenMP,
OpenBLAS, PyTorch's) spin and steal the 2 cores from whichever framework is being timed. A
worker times --epochs epochs after a warm-up one and reports their median; the table shows the
median over --repeats workers per framework.
"""
import argparse
import json
import subprocess
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402

from _timing import import_torch, table  # noqa: E402
from mlp_numpy import NumpyMLP  # noqa: E402

# pydl and torch are imported only by the workers that time them (see the docstring).
pydl = torch = None


CASES = {
    "a": dict(sizes=[784, 500, 500, 10], hidden="sigmoid", output="softmax", loss="mse", opt="sgd", lr=0.1, batch=100),
    "b": dict(sizes=[784, 500, 500, 10], hidden="relu", output="softmax", loss="crossentropy", opt="adam", lr=1e-3, batch=32),
    "c": dict(sizes=[784, 500, 500, 10], hidden="relu", output="softmax", loss="crossentropy", opt="adam", lr=1e-3, batch=256),
    "d": dict(sizes=[2, 8, 1], hidden="tanh", output="sigmoid", loss="mse", opt="sgd", lr=0.5, batch=4),
}


def data(case, n):
    rng = np.random.default_rng(0)
    d_in, d_out = case["sizes"][0], case["sizes"][-1]
    if d_in == 2:  # XOR, repeated
        x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], np.float32)
        y = np.array([[0], [1], [1], [0]], np.float32)
        reps = n // 4
        return np.tile(x, (reps, 1)), np.tile(y, (reps, 1))
    x = rng.random((n, d_in), dtype=np.float32)
    y = np.eye(d_out, dtype=np.float32)[rng.integers(0, d_out, n)]
    return x, y


def pydl_runner(case, x, y):
    from pydl.layers import Dense
    from pydl.models import Sequential
    pydl.manual_seed(0)
    sizes = case["sizes"]
    layers = [Dense(sizes[1], activation=case["hidden"], input_shape=(sizes[0],))]
    layers += [Dense(s, activation=case["hidden"]) for s in sizes[2:-1]]
    layers += [Dense(sizes[-1], activation=case["output"])]
    model = Sequential(layers)
    loss = "mse" if case["loss"] == "mse" else "categorical_crossentropy"
    opt = pydl.optimizers.SGD(learning_rate=case["lr"]) if case["opt"] == "sgd" else pydl.optimizers.Adam(case["lr"])
    model.compile(loss=loss, optimizer=opt)
    return lambda: model.fit(x, y, batch_size=case["batch"], epochs=1, verbose=0, shuffle=True)


def torch_runner(case, x, y):
    torch.manual_seed(0)
    sizes = case["sizes"]
    act = {"sigmoid": torch.nn.Sigmoid, "relu": torch.nn.ReLU, "tanh": torch.nn.Tanh}
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = torch.nn.Linear(a, b)
        torch.nn.init.xavier_uniform_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        mods.append(lin)
        if i < len(sizes) - 2:
            mods.append(act[case["hidden"]]())
    net = torch.nn.Sequential(*mods)
    opt = torch.optim.SGD(net.parameters(), lr=case["lr"]) if case["opt"] == "sgd" else \
        torch.optim.Adam(net.parameters(), lr=case["lr"], eps=1e-7)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    ce = case["loss"] == "crossentropy"
    labels = ty.argmax(1) if ce else None
    B = case["batch"]

    def epoch():
        perm = torch.randperm(len(tx))
        for i in range(0, len(tx), B):
            idx = perm[i:i + B]
            out = net(tx[idx])
            if ce:
                loss = torch.nn.functional.cross_entropy(out, labels[idx])
            else:
                p = torch.softmax(out, 1) if case["output"] == "softmax" else torch.sigmoid(out)
                loss = torch.nn.functional.mse_loss(p, ty[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
    return epoch


def numpy_runner(case, x, y):
    net = NumpyMLP(case["sizes"], case["hidden"], case["output"], case["loss"], case["opt"], case["lr"])
    B = case["batch"]
    rng = np.random.default_rng(0)

    def epoch():
        perm = rng.permutation(len(x))
        for i in range(0, len(x), B):
            idx = perm[i:i + B]
            net.step(x[idx], y[idx])
    return epoch


RUNNERS = {"pydl": pydl_runner, "numpy": numpy_runner, "torch": torch_runner}
SIZES = {"a": 6000, "b": 3200, "c": 12800, "d": 2000}


def worker(framework, key, n, epochs):
    """Time `epochs` epochs over n samples (after a warm-up epoch) in this process; print the
    median epoch's seconds."""
    case = CASES[key]
    x, y = data(case, n)
    fn = RUNNERS[framework](case, x, y)
    fn()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    print(json.dumps(statistics.median(times)))


def measure(frameworks, key, n, repeats, threads, epochs):
    times = {k: [] for k in frameworks}
    for _ in range(repeats):
        for fw in frameworks:  # interleaved: A, B, C, A, B, C, ...
            out = subprocess.run([sys.executable, __file__, "--worker", fw, key, str(n), str(threads),
                                  str(epochs)], check=True, capture_output=True, text=True).stdout
            times[fw].append(json.loads(out.strip().splitlines()[-1]))
    return {k: statistics.median(v) for k, v in times.items()}


def main():
    global pydl, torch
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per worker (their median counts)")
    ap.add_argument("--cases", default="abcd")
    ap.add_argument("--full-epoch", action="store_true", help="also time one 60 000-sample epoch of (a)")
    ap.add_argument("--worker", nargs=5, metavar=("FRAMEWORK", "CASE", "N", "THREADS", "EPOCHS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fw, key, n, threads, epochs = args.worker
        if fw == "pydl":
            import pydl as _pydl
            pydl = _pydl
            pydl.set_num_threads(int(threads))
        elif fw == "torch":
            torch = import_torch()
            torch.set_num_threads(int(threads))
        worker(fw, key, int(n), int(epochs))
        return
    import pydl as _pydl
    pydl = _pydl
    torch = import_torch()
    threads = pydl.get_num_threads()
    print(f"pydl {pydl.__version__}, {threads} threads, torch {torch.__version__ if torch else 'not installed'}, "
          f"numpy {np.__version__}; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; "
          f"medians of {args.repeats} interleaved workers (each its own process, the median of "
          f"{args.epochs} epochs)")
    frameworks = ["pydl", "numpy"] + (["torch"] if torch is not None else [])
    rows = []
    for key in args.cases:
        case, n = CASES[key], SIZES[key]
        t = measure(frameworks, key, n, args.repeats, threads, args.epochs)
        sps = {k: n / v for k, v in t.items()}
        steps = n / case["batch"]
        rows.append([f"({key}) {case['hidden']} {case['opt']} b{case['batch']}",
                     f"{sps['pydl']:,.0f}", f"{sps['numpy']:,.0f}", f"{sps['torch']:,.0f}" if "torch" in sps else "-",
                     f"{t['pydl'] / steps * 1e3:.3f}", f"{sps['pydl'] / sps['numpy']:.2f}x",
                     f"{sps['pydl'] / sps['torch']:.2f}x" if "torch" in sps else "-"])
    print(table(["case", "pydl samples/s", "numpy samples/s", "torch samples/s", "pydl ms/step",
                 "pydl/numpy", "pydl/torch"], rows))
    if args.full_epoch:
        t = measure(frameworks, "a", 60000, 3, threads, 1)
        print("\none 60 000-sample epoch of (a), seconds (median of 3): " +
              ", ".join(f"{k} {v:.2f}" for k, v in t.items()))


if __name__ == "__main__":
    main()
