"""Shared timing helpers: interleaved A/B repeats and medians (these 2-core machines drift by
10-50% between runs, so candidates are timed alternately within one run)."""
import statistics
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
