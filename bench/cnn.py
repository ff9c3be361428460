"""The example CNN and its convolutions: pydl beside PyTorch CPU (when installed), interleaved
in one run, medians of repeats, ratios against PyTorch at the same thread count.

    python bench/cnn.py [--repeats 5] [--quick] [--cases train,infer,c3,c5,c1,s2,dw]

Cases (random data: the work does not depend on the values):
  train  the issue-8 CNN, Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) -
         MaxPooling2D(2) - Flatten - Dense(128, relu) - Dense(10, softmax), 1x28x28 images,
         batch 64, Adam, categorical crossentropy: ms per training batch. pydl runs
         `model.fit` over the samples, as a user would; PyTorch a plain loop with
         zero_grad/backward/step over a random permutation.
  infer  the same CNN, ms per batch of 64 (pydl `model.predict(batch_size=64)`, PyTorch the
         module under `no_grad` batch by batch).
  c3 c5 c1 s2 dw   conv2d forward + backward (input and weight gradients, bias included) alone,
         batch 64, ms per call: 3x3 on 32x28x28 -> 32 (padding 1), 5x5 on 64x14x14 -> 64
         (padding 2), 1x1 on 256x7x7 -> 256, 3x3 stride 2 on 32x28x28 -> 64 (padding 1), and
         depthwise 3x3 on 64x28x28 (groups 64, padding 1). The backward is y.sum().backward() in
         both frameworks.

Each timing runs in a fresh subprocess that imports one framework only (their idle thread pools
would otherwise steal the cores from the one being timed), and the frameworks alternate
(pydl, torch, pydl, ...). A worker times --steps calls after warm-up calls and reports their
median; the table shows the median over --repeats workers per framework. On these 2-core
machines figures drift 10-50% between runs: read the ratios of one run.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
import numpy as np  # noqa: E402

from _timing import import_torch, measure, run_worker, table  # noqa: E402

BATCH = 64
# name: (C, H, W, O, k, stride, padding, groups)
CONVS = {
    "c3": (32, 28, 28, 32, 3, 1, 1, 1),
    "c5": (64, 14, 14, 64, 5, 1, 2, 1),
    "c1": (256, 7, 7, 256, 1, 1, 0, 1),
    "s2": (32, 28, 28, 64, 3, 2, 1, 1),
    "dw": (64, 28, 28, 64, 3, 1, 1, 64),
}
LABELS = {
    "train": "CNN training step (b64, Adam)",
    "infer": "CNN inference (b64)",
    "c3": "conv 3x3, 32x28x28 -> 32",
    "c5": "conv 5x5, 64x14x14 -> 64",
    "c1": "conv 1x1, 256x7x7 -> 256",
    "s2": "conv 3x3 s2, 32x28x28 -> 64",
    "dw": "depthwise 3x3, 64x28x28",
}



def cnn_data(n):
    rng = np.random.default_rng(0)
    x = rng.random((n, 1, 28, 28), dtype=np.float32)
    y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    return x, y


# ------------------------------------------------------------------ pydl
def pydl_cnn():
    import pydl
    from pydl.layers import Conv2D, Dense, Flatten, MaxPooling2D
    from pydl.models import Sequential
    pydl.manual_seed(0)
    model = Sequential([
        Conv2D(32, 3, activation="relu", input_shape=(1, 28, 28)), MaxPooling2D(2),
        Conv2D(64, 3, activation="relu"), MaxPooling2D(2), Flatten(),
        Dense(128, activation="relu"), Dense(10, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer=pydl.optimizers.Adam(1e-3))
    return model


def pydl_case(key, n):
    """Returns (fn, calls per fn)."""
    import pydl
    if key in ("train", "infer"):
        model = pydl_cnn()
        x, y = cnn_data(n)
        if key == "train":
            return (lambda: model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=True)), n // BATCH
        return (lambda: model.predict(x, batch_size=BATCH, verbose=0)), n // BATCH
    C, H, W, O, k, s, p, g = CONVS[key]
    rng = np.random.default_rng(0)
    x = pydl.tensor(rng.standard_normal((BATCH, C, H, W), dtype=np.float32), requires_grad=True)
    w = pydl.tensor(rng.standard_normal((O, C // g, k, k), dtype=np.float32) * 0.1, requires_grad=True)
    b = pydl.tensor(np.zeros(O, np.float32), requires_grad=True)

    def step():
        x.grad = w.grad = b.grad = None
        pydl.functional.conv2d(x, w, b, stride=s, padding=p, groups=g).sum().backward()
    return step, 1


# ------------------------------------------------------------------ torch
def torch_case(key, n):
    torch = import_torch()
    torch.manual_seed(0)
    if key in ("train", "infer"):
        nn = torch.nn
        net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 5 * 5, 128), nn.ReLU(),
                            nn.Linear(128, 10))
        x, y = cnn_data(n)
        tx, labels = torch.from_numpy(x), torch.from_numpy(y.argmax(1))
        if key == "train":
            opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)

            def epoch():
                perm = torch.randperm(n)
                for i in range(0, n, BATCH):
                    idx = perm[i:i + BATCH]
                    loss = torch.nn.functional.cross_entropy(net(tx[idx]), labels[idx])
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            return epoch, n // BATCH

        def infer():
            with torch.no_grad():
                for i in range(0, n, BATCH):
                    torch.softmax(net(tx[i:i + BATCH]), 1).numpy()
        return infer, n // BATCH
    C, H, W, O, k, s, p, g = CONVS[key]
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((BATCH, C, H, W), dtype=np.float32)).requires_grad_()
    w = torch.from_numpy(rng.standard_normal((O, C // g, k, k), dtype=np.float32) * 0.1).requires_grad_()
    b = torch.zeros(O, requires_grad=True)

    def step():
        x.grad = w.grad = b.grad = None
        torch.nn.functional.conv2d(x, w, b, stride=s, padding=p, groups=g).sum().backward()
    return step, 1


def worker(framework, key, n, threads, steps):
    run_worker(framework, threads, steps, pydl_case, torch_case, key, n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="a short run: 2 repeats, fewer samples and steps")
    ap.add_argument("--cases", default=",".join(LABELS))
    ap.add_argument("--threads", type=int, default=None, help="default: pydl's thread count")
    ap.add_argument("--worker", nargs=5, metavar=("FRAMEWORK", "CASE", "N", "THREADS", "STEPS"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        fw, key, n, threads, steps = args.worker
        worker(fw, key, int(n), int(threads), int(steps))
        return
    import pydl
    torch = import_torch()
    threads = args.threads or pydl.get_num_threads()
    repeats = 2 if args.quick else args.repeats
    n = 320 if args.quick else 1280          # samples per fit / predict call (5 or 20 batches)
    steps = 3 if args.quick else 7           # timed calls per worker
    keys = [k.strip() for k in args.cases.split(",") if k.strip()]
    for k in keys:
        if k not in LABELS:
            raise SystemExit(f"bench/cnn.py: unknown case {k!r}; choose from {', '.join(LABELS)}")
    print(f"pydl {pydl.__version__}, {threads} threads, torch {torch.__version__ if torch else 'not installed'}; "
          f"load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}; medians of {repeats} interleaved "
          f"workers (each its own process, the median of {steps} timed calls)")
    frameworks = ["pydl"] + (["torch"] if torch is not None else [])
    rows = []
    for key in keys:
        t = measure(__file__, frameworks, [key, n, threads, steps], repeats)
        rows.append([LABELS[key], f"{t['pydl'] * 1e3:.2f}",
                     f"{t['torch'] * 1e3:.2f}" if "torch" in t else "-",
                     f"{t['torch'] / t['pydl']:.2f}x" if "torch" in t else "-"])
    print(table(["case (batch 64)", "pydl ms", "torch ms", "pydl speed / torch"], rows))
    print("(speed ratio > 1: pydl is faster)")


if __name__ == "__main__":
    main()
