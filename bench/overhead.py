"""Per-call overhead on tiny tensors, pydl beside PyTorch (when installed), in microseconds.

    python bench/overhead.py

Tiny tensors measure what a framework costs per op and per backward, not arithmetic: the
course's small models (XOR, a 2-8-1 net) live in this regime. Medians of interleaved repeats.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402

import pydl  # noqa: E402
from _timing import interleaved, table  # noqa: E402

try:
    import torch
except ImportError:
    torch = None


def cases():
    rng = np.random.default_rng(0)
    a10, b10 = rng.standard_normal(10).astype(np.float32), rng.standard_normal(10).astype(np.float32)
    m10, n10 = rng.standard_normal((10, 10)).astype(np.float32), rng.standard_normal((10, 10)).astype(np.float32)
    x4 = rng.standard_normal((4, 2)).astype(np.float32)
    w1, w2 = rng.standard_normal((2, 8)).astype(np.float32), rng.standard_normal((8, 1)).astype(np.float32)

    pa, pb = pydl.tensor(a10), pydl.tensor(b10)
    pm, pn = pydl.tensor(m10), pydl.tensor(n10)
    px, pw1, pw2 = pydl.tensor(x4), pydl.tensor(w1, requires_grad=True), pydl.tensor(w2, requires_grad=True)
    pb1 = pydl.zeros(8, requires_grad=True)

    def pydl_graph():
        h = pydl.functional.linear(px, pw1, pb1).tanh()
        loss = ((h @ pw2) ** 2).mean()
        loss.backward()

    out = {
        "add, 10 floats": {"pydl": lambda: pa + pb},
        "matmul, 10x10": {"pydl": lambda: pm @ pn},
        "2-8-1 net: forward + backward": {"pydl": pydl_graph},
    }
    if torch is not None:
        torch.set_num_threads(pydl.get_num_threads())
        ta, tb = torch.from_numpy(a10), torch.from_numpy(b10)
        tm, tn = torch.from_numpy(m10), torch.from_numpy(n10)
        tx = torch.from_numpy(x4)
        tw1 = torch.tensor(w1, requires_grad=True)
        tw2 = torch.tensor(w2, requires_grad=True)
        tb1 = torch.zeros(8, requires_grad=True)

        def torch_graph():
            h = torch.tanh(torch.addmm(tb1, tx, tw1))
            loss = ((h @ tw2) ** 2).mean()
            loss.backward()

        out["add, 10 floats"]["torch"] = lambda: ta + tb
        out["matmul, 10x10"]["torch"] = lambda: tm @ tn
        out["2-8-1 net: forward + backward"]["torch"] = torch_graph
    return out


def backward_only():
    """The cost of one backward call alone: build the graph outside the timer."""
    rng = np.random.default_rng(1)
    x4 = rng.standard_normal((4, 2)).astype(np.float32)
    w = rng.standard_normal((2, 8)).astype(np.float32)
    import time
    import statistics

    def measure(make, reps=2000):
        ts = []
        for _ in range(reps):
            loss = make()
            t0 = time.perf_counter()
            loss.backward()
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts)

    px, pw = pydl.tensor(x4), pydl.tensor(w, requires_grad=True)
    res = {}
    for _ in range(3):  # interleave the two
        res.setdefault("pydl", []).append(measure(lambda: (pydl.functional.linear(px, pw).tanh() ** 2).mean()))
        if torch is not None:
            tx, tw = torch.from_numpy(x4), torch.tensor(w, requires_grad=True)
            res.setdefault("torch", []).append(measure(lambda: (torch.tanh(tx @ tw) ** 2).mean()))
    return {k: statistics.median(v) for k, v in res.items()}


def main():
    print(f"pydl {pydl.__version__}, {pydl.get_num_threads()} threads; torch "
          f"{torch.__version__ if torch else 'not installed'}")
    rows = []
    for name, cands in cases().items():
        t = interleaved(cands, number=20000 if "net" not in name else 3000)
        us = {k: v * 1e6 for k, v in t.items()}
        ratio = f"{us['torch'] / us['pydl']:.2f}x" if "torch" in us else "-"
        rows.append([name, f"{us['pydl']:.2f}", f"{us['torch']:.2f}" if "torch" in us else "-", ratio])
    b = backward_only()
    rows.append(["backward() alone (linear, tanh, pow, mean)", f"{b['pydl'] * 1e6:.2f}",
                 f"{b['torch'] * 1e6:.2f}" if "torch" in b else "-",
                 f"{b['torch'] / b['pydl']:.2f}x" if "torch" in b else "-"])
    print(table(["case", "pydl us", "torch us", "pydl speed-up (torch/pydl)"], rows))


if __name__ == "__main__":
    main()
