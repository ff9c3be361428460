"""GEMM throughput: pydl.matmul beside NumPy (np.matmul / np.dot, OpenBLAS), float32.

    python bench/gemm.py            # full run (~2-3 minutes)
    python bench/gemm.py --quick    # smaller sizes, fewer repeats

A benchmark, not a test: it prints tables and asserts nothing. Three parts:
  1. square n x n products, n = 128 .. 2048: GFLOP/s of both libraries and the ratio
     pydl / NumPy (above 1: pydl faster), with 1 thread and with all cores;
  2. the reference backend (pydl.set_backend('reference'): the plain triple loop) at n = 256,
     beside the fast one: what packing, blocking and SIMD buy;
  3. the products of a 784-500-500-10 MLP at batch B: forward X·W, backward dW = Xᵀ·G (transposed
     A) and dX = G·Wᵀ (transposed B), passed as .T views as the layers do: microseconds per call
     and the ratio pydl / NumPy time (below 1: pydl faster).
Each thread setting runs in subprocesses of this script with OPENBLAS_NUM_THREADS and
OMP_NUM_THREADS set before either library loads, so both use the same number of threads.
Timings: with 1 thread the two libraries alternate (A, B, A, B, ...) within one process, medians
of repeats (bench/_timing.py). With several threads they cannot share a process fairly: each
library's idle worker threads spin for a while after a call and take cores from the other's.
There, each library runs in its own process, the processes alternate (pydl, NumPy, pydl, ...)
and the median over the rounds is kept. On a busy machine trust the ratios more than the
absolute numbers.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def worker(args):
    """Runs in a subprocess with the thread count fixed; prints one JSON object."""
    import numpy as np

    import pydl
    from _timing import interleaved

    threads = args.threads
    libs = ["pydl", "numpy"] if args.only is None else [args.only]
    pydl.set_num_threads(threads)
    try:  # the environment variable already did it; this only makes sure
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
    except ImportError:
        pass
    repeats = 3 if args.quick else 7
    target = 0.01 if args.quick else 0.04  # seconds per timed sample
    rng = np.random.default_rng(0)
    out = {"threads": threads, "square": [], "reference": None, "mlp": []}

    def number_for(seconds_per_call):
        return max(1, int(target / max(seconds_per_call, 1e-7)))

    def probe(fn):  # a rough time per call, to size the samples
        import time

        fn()
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    sizes = [128, 256, 512] if args.quick else [128, 256, 512, 1024, 2048]
    for n in sizes:
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        pa, pb = pydl.tensor(a), pydl.tensor(b)
        fp = lambda: pydl.matmul(pa, pb)  # noqa: E731
        fn = lambda: np.matmul(a, b)  # noqa: E731
        number = number_for(probe(fp if "pydl" in libs else fn))
        t = interleaved(pick({"pydl": fp, "numpy": fn}, libs), number, repeats=repeats if n < 2048 else 5)
        flops = 2.0 * n**3
        out["square"].append({"n": n, **{k: flops / v / 1e9 for k, v in t.items()}})

    if threads == 1 and "pydl" in libs:  # the reference backend at n = 256 (slow: a few calls only)
        n = 256
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        pa, pb = pydl.tensor(a), pydl.tensor(b)

        backend = pydl.get_backend()

        def ref():
            pydl.set_backend("reference")
            try:
                pydl.matmul(pa, pb)
            finally:
                pydl.set_backend(backend)

        fast = lambda: pydl.matmul(pa, pb)  # noqa: E731
        t = interleaved({"reference": ref, "fast": fast}, 1, repeats=3, warmup=0)
        t_fast = interleaved({"fast": fast}, number_for(t["fast"]), repeats=repeats)["fast"]
        pydl.set_backend(backend)
        flops = 2.0 * n**3
        out["reference"] = {"n": n, "reference": flops / t["reference"] / 1e9, "fast": flops / t_fast / 1e9}

    if threads == 1 or not args.quick:
        batches = [4, 32, 256] if args.quick else [4, 32, 100, 256]
        for B in batches:
            # (label, stored A shape, stored B shape, trans_a, trans_b): op(A) · op(B)
            cases = [
                ("fwd   X·W1    (B,784)·(784,500)", (B, 784), (784, 500), False, False),
                ("fwd   H·W2    (B,500)·(500,500)", (B, 500), (500, 500), False, False),
                ("fwd   H·W3    (B,500)·(500,10)", (B, 500), (500, 10), False, False),
                ("bwd dW3 = Hᵀ·G  (500,B)·(B,10)", (B, 500), (B, 10), True, False),
                ("bwd dX3 = G·W3ᵀ (B,10)·(10,500)", (B, 10), (500, 10), False, True),
                ("bwd dW1 = Xᵀ·G  (784,B)·(B,500)", (B, 784), (B, 500), True, False),
                ("bwd dX1 = G·W1ᵀ (B,500)·(500,784)", (B, 500), (784, 500), False, True),
            ]
            for label, sa, sb, ta, tb in cases:
                a = rng.standard_normal(sa, dtype=np.float32)
                b = rng.standard_normal(sb, dtype=np.float32)
                pa, pb = pydl.tensor(a), pydl.tensor(b)
                na, nb = (a.T if ta else a), (b.T if tb else b)
                qa, qb = (pa.T if ta else pa), (pb.T if tb else pb)
                fp = lambda: pydl.matmul(qa, qb)  # noqa: E731
                fn = lambda: np.dot(na, nb)  # noqa: E731
                number = number_for(probe(fp if "pydl" in libs else fn))
                t = interleaved(pick({"pydl": fp, "numpy": fn}, libs), number, repeats=repeats)
                out["mlp"].append({"B": B, "case": label, **{k: v * 1e6 for k, v in t.items()}})
    print(json.dumps(out))


def pick(candidates, libs):
    return {k: v for k, v in candidates.items() if k in libs}


def run_worker(threads, quick, only=None):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--threads", str(threads)]
    if quick:
        cmd.append("--quick")
    if only:
        cmd += ["--only", only]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if res.returncode != 0:
        sys.stderr.write(res.stderr)
        raise SystemExit(f"worker with {threads} thread(s) failed")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--only", choices=["pydl", "numpy"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        return worker(args)

    from _timing import table

    import numpy as np

    import pydl

    ncores = os.cpu_count() or 1
    settings = [1] if ncores == 1 else [1, ncores]
    print(f"pydl {getattr(pydl, '__version__', '?')} (GEMM path: {simd_path()}), NumPy {np.__version__}, "
          f"{ncores} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = {}
    for t in settings:
        if t == 1:
            results[t] = run_worker(t, args.quick)
        else:  # one process per library, alternating, median over the rounds
            rounds = [(run_worker(t, args.quick, "pydl"), run_worker(t, args.quick, "numpy"))
                      for _ in range(2 if args.quick else 3)]
            results[t] = merge(rounds)

    for t in settings:
        r = results[t]
        rows = [(s["n"], f"{s['pydl']:.1f}", f"{s['numpy']:.1f}", f"{s['pydl'] / s['numpy']:.2f}x") for s in r["square"]]
        print(f"\nSquare float32 matmul, {t} thread{'s' if t > 1 else ''} (GFLOP/s, higher is better; "
              f"ratio = pydl / NumPy)")
        print(table(["n", "pydl", "NumPy", "ratio"], rows))

    ref = results[1]["reference"]
    print(f"\nWhat blocking buys, n = {ref['n']}, 1 thread: reference backend (triple loop) "
          f"{ref['reference']:.2f} GFLOP/s, fast backend {ref['fast']:.1f} GFLOP/s "
          f"({ref['fast'] / ref['reference']:.0f}x)")

    for t in settings:
        r = results[t]
        if not r["mlp"]:
            continue
        rows = [(m["B"], m["case"], f"{m['pydl']:.1f}", f"{m['numpy']:.1f}", f"{m['pydl'] / m['numpy']:.2f}")
                for m in r["mlp"]]
        print(f"\n784-500-500-10 MLP products, batch B, {t} thread{'s' if t > 1 else ''} "
              f"(µs per call, lower is better; ratio = pydl / NumPy time, below 1: pydl faster)")
        print(table(["B", "product", "pydl µs", "NumPy µs", "ratio"], rows))


def merge(rounds):
    """Per row, the median over rounds of each library's number (rows match by position)."""
    import statistics

    first = rounds[0][0]
    out = {"threads": first["threads"], "reference": None}
    for part in ("square", "mlp"):
        rows = []
        for i, row in enumerate(first[part]):
            merged = {k: v for k, v in row.items() if k not in ("pydl", "numpy")}
            for lib, which in (("pydl", 0), ("numpy", 1)):
                merged[lib] = statistics.median(r[which][part][i][lib] for r in rounds)
            rows.append(merged)
        out[part] = rows
    return out


def simd_path():
    try:
        from pydl import _C

        return _C._build_info()["gemm_path"]
    except Exception:  # noqa: BLE001 (informational only)
        return "?"


if __name__ == "__main__":
    main()
