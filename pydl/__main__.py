"""``python -m pydl info``: what this build of pydl contains and what the machine offers."""
import sys


def info():
    import os
    import platform
    import pydl
    from pydl import _source_tree
    b = pydl._C._build_info()
    simd_env = os.environ.get("PYDL_SIMD")
    core = pydl._C.__file__
    if _source_tree.borrowed_from:  # imported from a source checkout (the working directory)
        core += f" (used by the source tree {os.path.dirname(os.path.dirname(pydl.__file__))})"
    lines = [
        ("pydl", b["version"]),
        ("python", platform.python_version()),
        ("machine", f"{platform.machine()} {platform.processor() or ''}".strip()),
        ("compiler", b["compiler"]),
        ("openmp", "on" if b["openmp"] else "off (single-threaded build)"),
        ("threads", str(pydl.get_num_threads())),
        ("simd found", ", ".join(b["simd"]) or "none"),
        # the instruction set every fast kernel uses (GEMM, elementwise, optimizers): the best the
        # CPU has, or lower where PYDL_SIMD asks
        ("simd path", b["gemm_path"] + (f" (PYDL_SIMD={simd_env})" if simd_env else "")),
        ("backend", pydl.get_backend()),
        ("omp wait policy", os.environ.get("OMP_WAIT_POLICY", "default")
         + (f", GOMP_SPINCOUNT={os.environ['GOMP_SPINCOUNT']}" if "GOMP_SPINCOUNT" in os.environ else "")),
        ("cuda", ("built" if b["cuda_built"] else "not built") + ", "
         + ("GPU usable" if b["cuda_available"] else "no usable GPU")),
        ("compiled core", core),
    ]
    width = max(len(k) for k, _ in lines)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in lines)


def main(argv):
    if len(argv) < 1 or argv[0] not in ("info",):
        print("usage: python -m pydl info")
        return 2
    print(info())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
