"""The course's example scripts (examples/*.py) run end to end and print their tables.

Each runs as a subprocess with its quickest settings, once on MNIST (when $PYDL_DATA/mnist or
the download cache holds it) and once on scikit-learn's 8x8 digits (MNIST made unreachable:
an empty $PYDL_DATA, an empty home, and a proxy that refuses, so nothing is downloaded).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def _has(module):
    try:
        __import__(module)
        return True
    except ImportError:
        return False


def _mnist_available():
    from pydl.datasets import _download, mnist
    folders = [Path(os.environ["PYDL_DATA"]) / "mnist"] if os.environ.get("PYDL_DATA") else []
    folders.append(_download.data_home() / "mnist")
    return any(all(_download.find_file(d, f) for f in mnist.FILES) for d in folders)


DATASETS = [
    pytest.param("mnist", marks=pytest.mark.skipif(not _mnist_available(), reason="MNIST not found "
                                                   "(set PYDL_DATA to a folder holding mnist/)")),
    pytest.param("digits", marks=pytest.mark.skipif(not _has("sklearn"), reason="scikit-learn not installed")),
]


def run_example(name, *args, dataset="mnist", tmp_path=None, timeout=120, prelude=None):
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONHASHSEED="0")
    # Threads that spin while waiting make a shared, loaded CI machine many times slower.
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    if dataset == "digits":
        empty = tmp_path / "no-data"
        empty.mkdir(exist_ok=True)
        env.update(PYDL_DATA=str(empty), HOME=str(empty), USERPROFILE=str(empty),
                   http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
                   HTTP_PROXY="http://127.0.0.1:9", HTTPS_PROXY="http://127.0.0.1:9", no_proxy="", NO_PROXY="")
    script = str(EXAMPLES / name)
    if prelude is None:
        cmd = [sys.executable, script, *args]
    else:  # run the script in-process after `prelude` (e.g. hiding matplotlib)
        code = (f"import runpy, sys; {prelude}; sys.argv = {[script, *args]!r}; "
                f"runpy.run_path({script!r}, run_name='__main__')")
        cmd = [sys.executable, "-c", code]
    proc = subprocess.run(cmd, cwd=tmp_path or ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{name} failed:\n{proc.stdout}\n{proc.stderr}"
    if dataset == "digits":
        assert "8x8 digits" in proc.stdout
    return proc.stdout


def table_rows(text):
    """The body rows of the first markdown table in ``text``, as lists of stripped cells."""
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and line.endswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if not all(set(c) <= set("-:") for c in cells):
                rows.append(cells)
        elif rows:
            break
    return rows[1:]  # without the header


def accuracy(cell):
    value = float(cell)
    assert 0.0 <= value <= 1.0, f"accuracy {cell} is not in [0, 1]"
    return value


@pytest.mark.parametrize("dataset", DATASETS)
def test_compare_choices(dataset, tmp_path):
    out = run_example("compare_choices.py", "--quick", "--table", "table.md", dataset=dataset, tmp_path=tmp_path)
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["loss", "loss", "batch size", "batch size", "depth (sigmoid)",
                                    "depth (sigmoid)", "activation (9 layers)", "activation (9 layers)",
                                    "test inputs", "test inputs"]
    settings = [r[1] for r in rows]
    for expected in ("mean squared error", "cross-entropy (softmax)", "100 (mini-batch)", "3 hidden layers",
                     "9 hidden layers", "sigmoid", "ReLU", "clean"):
        assert expected in settings
    assert any(s.endswith("(full batch)") for s in settings)
    assert any(s.startswith("Gaussian noise") for s in settings)
    acc = {(r[0], r[1]): accuracy(r[2]) for r in rows}
    # rows that report the same baseline model agree
    assert acc["loss", "cross-entropy (softmax)"] == acc["batch size", "100 (mini-batch)"] \
        == acc["depth (sigmoid)", "3 hidden layers"] == acc["test inputs", "clean"]
    assert table_rows((tmp_path / "table.md").read_text()) == rows


@pytest.mark.parametrize("dataset", DATASETS)
def test_overfitting(dataset, tmp_path):
    out = run_example("overfitting.py", "--quick", "--out", "over.png", dataset=dataset, tmp_path=tmp_path)
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["plain", "dropout 0.5", "L2 1e-3", "early stopping"]
    for r in rows:
        assert re.fullmatch(r"\d+( \(best \d+\))?", r[1])
        for cell in r[2:5]:
            accuracy(cell)
        assert float(r[5]) >= 0.0  # validation loss
    if _has("matplotlib"):
        assert (tmp_path / "over.png").stat().st_size > 0


@pytest.mark.parametrize("dataset", DATASETS)
def test_learning_rates(dataset, tmp_path):
    out = run_example("learning_rates.py", "--quick", "--out", "lr.png", dataset=dataset, tmp_path=tmp_path)
    rows = table_rows(out)
    assert [r[0] for r in rows] == ["constant", "exponential decay", "triangular", "triangular2"]
    for r in rows:
        assert 0.0 <= float(r[1]) < 10.0  # final training loss
        accuracy(r[2])
        accuracy(r[3])
    if _has("matplotlib"):
        assert (tmp_path / "lr.png").stat().st_size > 0


def test_optimizers_race(tmp_path):
    out = run_example("optimizers_race.py", "--out", "race.png", dataset=None, tmp_path=tmp_path)
    rows = table_rows(out)
    functions = ["Rosenbrock", "Beale", "Saddle"]
    optimizers = ["SGD", "Momentum", "Nesterov", "Adagrad", "Adadelta", "RMSprop", "Adam"]
    assert [(r[0], r[1]) for r in rows] == [(f, o) for f in functions for o in optimizers]
    dist = {(r[0], r[1]): float(r[4]) for r in rows}
    assert all(d >= 0.0 for d in dist.values())
    # the race's lessons: momentum rolls down Rosenbrock's valley where SGD crawls, and at the
    # saddle SGD is stuck while the methods that rescale the gradient escape
    assert dist["Rosenbrock", "Momentum"] < 0.1 < dist["Rosenbrock", "SGD"]
    assert dist["Saddle", "SGD"] > 0.9
    assert dist["Saddle", "Adam"] < 0.05 and dist["Saddle", "RMSprop"] < 0.05
    if _has("matplotlib"):
        assert (tmp_path / "race.png").stat().st_size > 0


@pytest.mark.skipif(not (_has("matplotlib") and _has("PIL")), reason="the GIF needs matplotlib and Pillow")
def test_optimizers_race_animation(tmp_path):
    run_example("optimizers_race.py", "--steps", "3", "--animate", "--out", "race.png", dataset=None,
                tmp_path=tmp_path)
    assert (tmp_path / "race.gif").stat().st_size > 0


def test_examples_run_without_matplotlib(tmp_path):
    hide = "sys.modules['matplotlib'] = None"  # `import matplotlib` now raises ImportError
    out = run_example("optimizers_race.py", "--quick", "--out", "race.png", dataset=None, tmp_path=tmp_path,
                      prelude=hide)
    assert "matplotlib is not installed" in out and len(table_rows(out)) == 21
    assert not (tmp_path / "race.png").exists()


def test_linear_regression(tmp_path):
    out = run_example("linear_regression.py", dataset=None, tmp_path=tmp_path)
    m, b = map(float, re.search(r"fitted line: y = (\S+) x \+ (\S+)", out).groups())
    assert abs(m - 2.0) < 0.1 and abs(b - 1.0) < 0.1
