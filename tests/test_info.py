"""``python -m pydl info`` prints what the build contains."""
import subprocess
import sys

import pydl


def test_info_lines():
    out = subprocess.run([sys.executable, "-m", "pydl", "info"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = dict(line.split(None, 1) if " " in line.strip() else (line.strip(), "")
                 for line in out.stdout.splitlines() if line.strip())
    text = out.stdout
    assert pydl.__version__ in text
    for key in ("pydl", "openmp", "threads", "simd", "cuda"):
        assert any(line.startswith(key) for line in text.splitlines()), key
    threads = [line for line in text.splitlines() if line.startswith("threads")][0].split()[-1]
    assert int(threads) >= 1
    openmp = [line for line in text.splitlines() if line.startswith("openmp")][0]
    assert ("on" in openmp) == pydl._C._build_info()["openmp"]
    assert lines  # parsed


def test_usage_on_bad_command():
    out = subprocess.run([sys.executable, "-m", "pydl", "bogus"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "usage" in out.stdout


def test_version_attribute():
    assert isinstance(pydl.__version__, str) and pydl.__version__.count(".") >= 1
