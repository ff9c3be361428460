"""Recurrent networks (issue 9): pydl beside PyTorch CPU (when installed), interleaved in one
run, medians of repeats, ratios against PyTorch at the same thread count (1 and 2 threads).

    python bench/rnn.py [--repeats 3] [--quick] [--threads 1,2] [--cases lstm2,lstm128,gru128,text]
                        [--modes train,infer]

Cases (random data: the work does not depend on the values), batch 32 throughout:
  lstm2    LSTM(64, return_sequences) - LSTM(64) - Dense(1) on (32, 50, 1), MSE
  lstm128  LSTM(128) - Dense(1) on (32, 100, 8), MSE
  gru128   GRU(128) - Dense(1) on (32, 100, 8), MSE (Keras 3's reset_after GRU = PyTorch's GRU)
  text     Embedding(10000, 64) - LSTM(64) - Dense(2, softmax) on ids (32, 80), crossentropy
Modes: train (ms per training batch, Adam: pydl `model.fit` over the samples, as a user would;
PyTorch a plain loop with zero_grad/backward/step over a random permutation) and infer (ms per
batch: pydl `model.predict(batch_size=32)`, PyTorch the module under `no_grad` batch by batch).

The weights have the same shapes in both frameworks, except that PyTorch's LSTM has two bias
vectors (b_ih, b_hh) where Keras has one (4u): 4u extra additions per step, negligible.

Each timing runs in a fresh subprocess that imports one framework only (their idle thread pools
would otherwise steal the cores from the one being timed), and the frameworks alternate
(pydl, torch, pydl, ...). A worker times --steps calls after warm-up calls and reports their
median; the table shows the median over --repeats workers per framework. On a shared machine
absolute times drift a lot: read the ratios of one run.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402

from _timing import import_torch, measure, run_worker, table  # noqa: E402

BATCH = 32
VOCAB, EMBED, TEXT_LEN = 10000, 64, 80
# name: (cell, units, layers, time steps, features)
NETS = {
    "lstm2": ("lstm", 64, 2, 50, 1),
    "lstm128": ("lstm", 128, 1, 100, 8),
    "gru128": ("gru", 128, 1, 100, 8),
    "text": ("lstm", 64, 1, TEXT_LEN, None),
}
LABELS = {
    "lstm2": "LSTM(64)x2, (32, 50, 1)",
    "lstm128": "LSTM(128), (32, 100, 8)",
    "gru128": "GRU(128), (32, 100, 8)",
    "text": "Embedding(10000, 64)+LSTM(64), (32, 80)",
}
MODES = ("train", "infer")



def data(key, n):
    """(x, y): float sequences and a regression target, or token ids and one-hot labels."""
    rng = np.random.default_rng(0)
    _, _, _, steps, feats = NETS[key]
    if key == "text":
        x = rng.integers(0, VOCAB, (n, steps)).astype(np.int64)
        y = np.eye(2, dtype=np.float32)[rng.integers(0, 2, n)]
        return x, y
    x = rng.standard_normal((n, steps, feats), dtype=np.float32)
    y = rng.standard_normal((n, 1), dtype=np.float32)
    return x, y


# ------------------------------------------------------------------ pydl
def pydl_model(key):
    import pydl
    from pydl.layers import GRU, LSTM, Dense, Embedding
    from pydl.models import Sequential
    pydl.manual_seed(0)
    cell, units, layers, steps, feats = NETS[key]
    rnn = LSTM if cell == "lstm" else GRU
    if key == "text":
        stack = [Embedding(VOCAB, EMBED, input_shape=(steps,)), rnn(units), Dense(2, activation="softmax")]
        loss = "categorical_crossentropy"
    else:
        stack = [rnn(units, return_sequences=i < layers - 1, **({"input_shape": (steps, feats)} if i == 0 else {}))
                 for i in range(layers)] + [Dense(1)]
        loss = "mse"
    model = Sequential(stack)
    model.compile(loss=loss, optimizer=pydl.optimizers.Adam(1e-3))
    return model


def pydl_case(key, mode, n):
    """Returns (fn, batches per fn)."""
    model = pydl_model(key)
    x, y = data(key, n)
    if mode == "train":
        return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)), n // BATCH
    return (lambda: model.predict(x, batch_size=BATCH, verbose=0)), n // BATCH


# ------------------------------------------------------------------ torch
def torch_case(key, mode, n):
    torch = import_torch()
    nn = torch.nn
    torch.manual_seed(0)
    cell, units, layers, steps, feats = NETS[key]
    rnn = nn.LSTM if cell == "lstm" else nn.GRU

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(VOCAB, EMBED) if key == "text" else None
            self.rnn = rnn(EMBED if key == "text" else feats, units, num_layers=layers, batch_first=True)
            self.head = nn.Linear(units, 2 if key == "text" else 1)

        def forward(self, x):
            if self.embed is not None:
                x = self.embed(x)
            seq, _ = self.rnn(x)
            return self.head(seq[:, -1])

    net = Net()
    x, y = data(key, n)
    tx = torch.from_numpy(x)
    ty = torch.from_numpy(y.argmax(1)) if key == "text" else torch.from_numpy(y)
    lossf = torch.nn.functional.cross_entropy if key == "text" else torch.nn.functional.mse_loss
    if mode == "train":
        opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

        def epoch():
            perm = torch.randperm(n)
            for i in range(0, n, BATCH):
                idx = perm[i:i + BATCH]
                loss = lossf(net(tx[idx]), ty[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
        return epoch, n // BATCH

    def infer():
        with torch.no_grad():
            for i in range(0, n, BATCH):
                out = net(tx[i:i + BATCH])
                (torch.softmax(out, 1) if key == "text" else out).numpy()
    return infer, n // BATCH


def worker(framework, key, mode, n, threads, steps):
    run_worker(framework, threads, steps, pydl_case, torch_case, key, mode, n)


def parse_list(text, allowed, what):
    items = [k.strip() for k in text.split(",") if k.strip()]
    for k in items:
        if k not in allowed:
            raise SystemExit(f"bench/rnn.py: unknown {what} {k!r}; choose from {', '.join(allowed)}")
    return items


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a short run: 2 repeats, fewer batches and steps")
    ap.add_argument("--cases", default=",".join(LABELS))
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--threads", default="1,2", help="thread counts to compare at (default 1,2)")
    ap.add_argument("--worker", nargs=6, metavar=("FRAMEWORK", "CASE", "MODE", "N", "THREADS", "STEPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fw, key, mode, n, threads, steps = args.worker
        worker(fw, key, mode, int(n), int(threads), int(steps))
        return
    import pydl
    torch = import_torch()
    keys = parse_list(args.cases, LABELS, "case")
    modes = parse_list(args.modes, MODES, "mode")
    try:
        thread_counts = [int(t) for t in args.threads.split(",") if t.strip()]
    except ValueError:
        raise SystemExit(f"bench/rnn.py: --threads takes comma-separated ints, got {args.threads!r}") from None
    if not thread_counts or min(thread_counts) < 1:
        raise SystemExit(f"bench/rnn.py: --threads needs positive thread counts, got {args.threads!r}")
    repeats = 2 if args.quick else args.repeats
    n = 96 if args.quick else 192            # samples per fit / predict call (3 or 6 batches)
    steps = 3 if args.quick else 5           # timed calls per worker
    print(f"pydl {pydl.__version__}, torch {torch.__version__ if torch else 'not installed'}; load average "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}; medians of {repeats} interleaved workers (each its own "
          f"process, the median of {steps} timed calls of {n // BATCH} batches of {BATCH})")
    frameworks = ["pydl"] + (["torch"] if torch is not None else [])
    headers = ["case (batch 32)"]
    for th in thread_counts:
        headers += [f"{th}t pydl ms", f"{th}t torch ms", f"{th}t ratio"]
    rows = []
    for key in keys:
        for mode in modes:
            row = [f"{LABELS[key]} {mode}"]
            for th in thread_counts:
                t = measure(__file__, frameworks, [key, mode, n, th, steps], repeats)
                row += [f"{t['pydl'] * 1e3:.2f}", f"{t['torch'] * 1e3:.2f}" if "torch" in t else "-",
                        f"{t['torch'] / t['pydl']:.2f}x" if "torch" in t else "-"]
            rows.append(row)
            print("  " + " | ".join(row), flush=True)
    print(table(headers, rows))
    print("(ratio = torch ms / pydl ms at the same thread count; above 1: pydl is faster)")


if __name__ == "__main__":
    main()
