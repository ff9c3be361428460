"""Shared timing helpers: interleaved A/B repeats and medians (these 2-core machines drift by
10-50% between runs, so candidates are timed alternately within one run)."""
import json
import statistics
import subprocess
import sys
import time


def time_call(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def interleaved(candidates, number, repeats=7, warmup=1):
    """candidates: {name: fn}. Returns {name: median seconds per call}, timing the candidates
    one after another in each repeat (A, B, A, B, ...)."""
    for fn in candidates.values():
        for _ in range(warmup):
            time_call(fn, max(1, number // 10))
    samples = {name: [] for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            samples[name].append(time_call(fn, number))
    return {name: statistics.median(v) for name, v in samples.items()}


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "| " + " | ".join(str(h).ljust(w) for h, w in zip(headers, widths)) + " |"
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    out = [line, sep]
    for r in rows:
        out.append("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths)) + " |")
    return "\n".join(out)


def worker_median(fn, calls, steps, warmup=2, warmup_s=0.3):
    """One benchmark worker's figure: fn warmed up (``warmup`` calls and at least ``warmup_s``
    seconds), then timed ``steps`` times; the median of the seconds per unit (fn does ``calls``
    units: batches, say). Printed as JSON for ``measure``.

    The time floor matters: building a model may call NumPy's LAPACK (the orthogonal initializer's
    QR), after which OpenBLAS's worker threads spin for ~0.1 s; on a 2-core machine they take a
    core from the framework being timed (measured: LSTM(64)x2 inference 2.6 ms per batch right
    after the build, 1.4 ms once they sleep)."""
    start = time.perf_counter()
    done = 0
    while done < warmup or time.perf_counter() - start < warmup_s:
        fn()
        done += 1
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) / calls)
    print(json.dumps(statistics.median(times)))


def measure(script, frameworks, args, repeats):
    """{framework: median over ``repeats`` workers}: each worker is ``script --worker framework
    *args`` in its own process, the frameworks alternating (A, B, A, B, ...)."""
    times = {k: [] for k in frameworks}
    for _ in range(repeats):
        for fw in frameworks:
            out = subprocess.run([sys.executable, script, "--worker", fw, *map(str, args)],
                                 check=True, capture_output=True, text=True).stdout
            times[fw].append(json.loads(out.strip().splitlines()[-1]))
    return {k: statistics.median(v) for k, v in times.items()}


def import_torch():
    """PyTorch, or None when it is not installed (the benchmarks then time pydl alone)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


def run_worker(framework, threads, steps, pydl_case, torch_case, *case_args):
    """A benchmark worker: the framework's thread count set, ``(fn, calls) = <framework>_case(*case_args)``
    built, then timed by ``worker_median``. Each worker runs in its own process (``measure``)."""
    if framework == "pydl":
        import pydl
        pydl.set_num_threads(threads)
        fn, calls = pydl_case(*case_args)
    else:
        import_torch().set_num_threads(threads)
        fn, calls = torch_case(*case_args)
    worker_median(fn, calls, steps)
