"""Importing pydl from its own source tree (the repository root as the working directory).

The build never writes a compiled module into the source tree (``pydl/`` holds Python only),
so when ``import pydl`` finds this checkout's ``pydl/`` first (``python -m pydl``, ``python -c``
and ``python -m pytest`` all put the working directory on ``sys.path``), ``pydl._C`` is not
beside it. Then :func:`use_installed_core` looks for an installed pydl further along
``sys.path`` and lets this tree's Python code load that install's compiled modules
(``pydl._C``, ``pydl.data._batching``, ``pydl.data._augment``): Python edits take effect at once, C++ edits need a
rebuild. The install records a hash of the C++ sources it was built from
(``_build_sources.sha256``, written by cmake/pydl_source_hash.cmake); when it differs from this
tree's sources a warning says so and what to run. With no install to borrow, the ImportError
says why and what to run.
"""
import hashlib
import os
import sys
import warnings
from importlib.machinery import PathFinder

# The compiled modules of a build: (module name, folder below the package root).
COMPILED = (("pydl._C", ""), ("pydl.data._batching", "data"), ("pydl.data._augment", "data"))
HASH_FILE = "_build_sources.sha256"
# Files whose content decides what the compiled modules contain. cmake/pydl_source_hash.cmake
# walks the same list; the two must agree (tests/test_info.py checks it).
HASHED_DIRS = ("cpp/include", "cpp/src", "cpp/bindings")
HASHED_SUFFIXES = (".h", ".hpp", ".cpp", ".cu", ".cuh")
HASHED_FILES = ("CMakeLists.txt", "pydl/data/_batching.pyx", "pydl/data/_augment.pyx")

INSTALL_HINT = (
    "build it with the README's install command, pip install \".[datasets]\" (a C++17 compiler "
    "is needed), or, to edit the C++ kernels, with the editable install that rebuilds on import: "
    "pip install --no-build-isolation -C editable.rebuild=true -C build-dir=build/editable -e \".[test]\" "
    "(README, 'Working on pydl')"
)


def source_root(package_dir):
    """The repository root when ``package_dir`` (a pydl/ folder) sits in a source checkout."""
    root = os.path.dirname(os.path.abspath(package_dir))
    if os.path.isfile(os.path.join(root, "pyproject.toml")) and os.path.isdir(os.path.join(root, "cpp")):
        return root
    return None


def source_hash(root):
    """SHA-256 over the sorted relative paths and SHA-256 digests of the hashed sources:
    one line ``path:digest`` per file, as cmake/pydl_source_hash.cmake computes it."""
    rels = [f for f in HASHED_FILES if os.path.isfile(os.path.join(root, f))]
    for d in HASHED_DIRS + ("cmake",):
        suffixes = (".cmake",) if d == "cmake" else HASHED_SUFFIXES
        for dirpath, _, files in os.walk(os.path.join(root, d)):
            for name in files:
                if name.endswith(suffixes):
                    rels.append(os.path.relpath(os.path.join(dirpath, name), root).replace(os.sep, "/"))
    lines = []
    for rel in sorted(rels):
        with open(os.path.join(root, rel), "rb") as f:
            lines.append(f"{rel}:{hashlib.sha256(f.read()).hexdigest()}\n")
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def recorded_hash(package_dir):
    """The source hash an installed build recorded, or None (a build older than the record)."""
    try:
        with open(os.path.join(package_dir, HASH_FILE)) as f:
            return f.read().strip() or None
    except OSError:
        return None


class _InstalledCompiledModules:
    """A meta path finder that answers only for the compiled modules, from an install."""

    def __init__(self, installed_dir):
        self.installed_dir = installed_dir

    def find_spec(self, fullname, path=None, target=None):
        for name, sub in COMPILED:
            if fullname == name:
                folder = os.path.join(self.installed_dir, sub) if sub else self.installed_dir
                return PathFinder.find_spec(name, [folder])
        return None


def _find_installed(package_dir):
    """The first pydl on sys.path, other than ``package_dir``, that holds a compiled _C."""
    here = os.path.realpath(package_dir)
    for entry in sys.path:
        spec = PathFinder.find_spec("pydl", [entry or os.getcwd()])
        if spec is None or not spec.submodule_search_locations:
            continue
        for loc in spec.submodule_search_locations:
            if os.path.realpath(loc) != here and PathFinder.find_spec("pydl._C", [loc]) is not None:
                return loc
    return None


# Where the compiled core was borrowed from (None: it sits beside the Python code, as installed).
borrowed_from = None


def use_installed_core(package_dir):
    """Called by pydl/__init__.py before it imports ``_C``: a no-op when the compiled core is
    beside ``package_dir``; in a source tree, borrow an install's compiled modules; else raise
    ImportError saying why and what to run."""
    global borrowed_from
    import importlib.util
    if importlib.util.find_spec("pydl._C") is not None:  # beside it, or an editable install's finder
        return
    root = source_root(package_dir)
    if root is None:
        raise ImportError(
            f"pydl: the compiled core pydl._C is missing from {package_dir}: this install is broken; "
            f"reinstall it ({INSTALL_HINT})", name="pydl._C")
    installed = _find_installed(package_dir)
    if installed is None:
        raise ImportError(
            f"pydl: importing the source tree {root} (it comes first on sys.path), whose pydl/ holds "
            "Python only: the build never writes the compiled core (pydl._C) into it, and no installed "
            f"pydl was found on sys.path to take it from; {INSTALL_HINT}", name="pydl._C")
    recorded = recorded_hash(installed)
    current = source_hash(root)
    if recorded != current:
        warnings.warn(
            f"pydl: this source tree ({root}) uses the compiled core installed in {installed}, which "
            + ("was built from different C++ sources" if recorded else "does not record its sources")
            + f"; C++ changes are not in it until you rebuild: {INSTALL_HINT}",
            RuntimeWarning, stacklevel=3)
    sys.meta_path.insert(0, _InstalledCompiledModules(installed))
    borrowed_from = installed
