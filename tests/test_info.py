"""``python -m pydl info`` prints what the build contains."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pydl
from pydl import _source_tree


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
    assert lines["pydl"] == pydl.__version__ and lines["threads"] == threads


def test_usage_on_bad_command():
    out = subprocess.run([sys.executable, "-m", "pydl", "bogus"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "usage" in out.stdout


def test_version_attribute():
    assert isinstance(pydl.__version__, str) and pydl.__version__.count(".") >= 1


# ---------------------------------------------------------------- the chosen SIMD path
def _info(env_extra, cwd=None):
    env = {k: v for k, v in os.environ.items() if k != "PYDL_SIMD"}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-m", "pydl", "info"], capture_output=True, text=True, timeout=60,
                         env=env, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return {line.split("  ", 1)[0].strip(): line.split("  ", 1)[1].strip()
            for line in out.stdout.splitlines() if "  " in line}


def test_info_shows_the_simd_path_in_effect():
    found = _info({})["simd found"].split(", ")
    best = "avx512" if "avx512f" in found else "avx2" if "avx2" in found else "generic"
    assert _info({})["simd path"] == best
    assert _info({"PYDL_SIMD": "generic"})["simd path"] == "generic (PYDL_SIMD=generic)"
    # PYDL_SIMD lowers the choice, never raises it past what the CPU has
    want_avx2 = "avx2" if best != "generic" else "generic"
    assert _info({"PYDL_SIMD": "avx2"})["simd path"] == f"{want_avx2} (PYDL_SIMD=avx2)"
    # the path this test process runs (scripts/test_all.sh runs the suite under each)
    forced = os.environ.get("PYDL_SIMD")
    if forced in ("generic", "avx2", "avx512"):
        order = ["generic", "avx2", "avx512"]
        assert pydl._C._build_info()["gemm_path"] == order[min(order.index(forced), order.index(best))]


# ---------------------------------------------------------------- working from the source tree
ROOT = Path(__file__).resolve().parents[1]


def _installed_pydl_dir():
    """The folder of the installed pydl under test (its compiled core), or skip."""
    if _source_tree.source_root(ROOT / "pydl") is None:
        pytest.skip(f"{ROOT} is not a pydl source checkout")
    here = Path(pydl.__file__).resolve().parent
    if here != ROOT / "pydl":
        return here  # tests run from tests/: the installed package
    if _source_tree.borrowed_from:
        return Path(_source_tree.borrowed_from)  # tests run from the root: the borrowed install
    pytest.skip("pydl under test is not installed (an editable install or a build on PYTHONPATH): "
                "install it with pip install \".[test]\" to test importing from the source tree")


def _run_in(cwd, *args, env=None):
    env = dict(os.environ if env is None else env)
    env.pop("PYTHONPATH", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_import_and_info_from_the_repository_root():
    installed = _installed_pydl_dir()
    out = _run_in(ROOT, "-W", "error::RuntimeWarning", "-c",
                  "import pydl, pydl.data.batching as b; print(pydl.__file__); print(pydl._C.__file__); "
                  "print(b.HAVE_CYTHON)")
    assert out.returncode == 0, out.stderr  # no warning either: the install is built from this tree
    source_init, core, cython = out.stdout.split()
    assert Path(source_init) == ROOT / "pydl" / "__init__.py"  # the checkout's Python code is used
    assert Path(core).parent.resolve() == installed.resolve()  # with the install's compiled core
    assert cython == str(pydl.data.batching.HAVE_CYTHON)  # and its Cython module where it has one
    info = _info({}, cwd=ROOT)
    assert info["pydl"] == pydl.__version__
    assert str(ROOT) in info["compiled core"] and str(installed) in info["compiled core"]


def test_pytest_from_the_repository_root():
    _installed_pydl_dir()
    out = _run_in(ROOT, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_info.py::test_version_attribute")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "1 passed" in out.stdout


def test_source_tree_with_other_cpp_sources_warns(tmp_path):
    installed = _installed_pydl_dir()
    # a checkout whose C++ differs from what the install was built from
    shutil.copytree(ROOT / "pydl", tmp_path / "pydl", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    (tmp_path / "cpp" / "src").mkdir(parents=True)
    (tmp_path / "cpp" / "src" / "edited.cpp").write_text("int edited_kernel() { return 1; }\n")
    out = _run_in(tmp_path, "-c", "import pydl; print(pydl._C.__file__)")
    assert out.returncode == 0, out.stderr
    assert Path(out.stdout.strip()).parent.resolve() == installed.resolve()
    assert "built from different C++ sources" in out.stderr and "pip install" in out.stderr


def test_source_tree_without_an_install_says_what_to_run():
    _installed_pydl_dir()
    # -S: no site-packages, so no installed pydl to borrow the compiled core from
    out = _run_in(ROOT, "-S", "-c", "import pydl")
    assert out.returncode != 0
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("ImportError: pydl:") and "partially initialized" not in out.stderr
    assert "never writes the compiled core" in last and "pip install" in last


def test_cmake_and_python_hash_the_same_sources(tmp_path):
    cmake = shutil.which("cmake")
    if cmake is None or _source_tree.source_root(ROOT / "pydl") is None:
        pytest.skip("needs cmake and the source checkout")
    out = tmp_path / "hash"
    subprocess.run([cmake, f"-DROOT={ROOT}", f"-DOUT={out}", "-P", str(ROOT / "cmake" / "pydl_source_hash.cmake")],
                   check=True, timeout=60)
    assert out.read_text().strip() == _source_tree.source_hash(str(ROOT))
    # and the hash sees an edit: one changed byte in a kernel changes it
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "cpp", tree / "cpp")
    before = _source_tree.source_hash(str(tree))
    kernel = next((tree / "cpp" / "src").rglob("*.cpp"))
    kernel.write_bytes(kernel.read_bytes() + b" ")
    assert _source_tree.source_hash(str(tree)) != before


@pytest.mark.parametrize("given,expected", [({}, "10000"), ({"OMP_WAIT_POLICY": "PASSIVE"}, None),
                                            ({"GOMP_SPINCOUNT": "5"}, "5")])
def test_openmp_spin_is_shortened_unless_the_user_chose(given, expected):
    # pydl sets GOMP_SPINCOUNT=10000 before the OpenMP runtime loads (libgomp's default spinning
    # made a CNN step 10x slower on a loaded 2-core machine); a policy the user set is kept
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")}
    env.update(given)
    code = "import os, pydl; print(os.environ.get('GOMP_SPINCOUNT'))"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(expected)
