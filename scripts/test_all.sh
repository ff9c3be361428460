#!/usr/bin/env bash
# Every test, every code path (what CI runs, through .ci/run):
#   1. install pydl with what the tests need (pip install ".[test]")
#   2. pytest, the whole suite, on the installed package
#   3. the fast-vs-reference pytest modules again with PYDL_SIMD=avx2 and PYDL_SIMD=generic, so
#      the AVX2 and portable copies of the kernels run, not only the best the CPU has (AVX-512
#      here); test_info checks in each run that the forced path is the one in effect
#   4. the C++ unit tests (ctest, built with the module in build/release), once per SIMD path
#      (cpp/tests/test_isa.cpp checks the path)
#   5. an AddressSanitizer + UndefinedBehaviorSanitizer build of the module and the C++ tests
#      (build/asan-py/build; the module is installed into build/asan-py/site, never into the
#      source tree or the environment): the C++ unit tests, then a core pytest subset on the
#      instrumented pydl._C with the sanitizer runtime preloaded (leak checks off there: the
#      interpreter keeps its objects alive at exit by design)
# Each part's time is printed at the end.
#   bash scripts/test_all.sh            (PYTHON=python3.12 JOBS=4 to change the defaults)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}
JOBS=${JOBS:-2}
# OpenMP's idle threads spin before they sleep: on a CI machine shared with other jobs that made
# single tests 10x slower (a 2-epoch MNIST fit: 274 s instead of 25 s). Results do not depend on it.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
SIMD_PATHS=(avx2 generic)
# the modules that compare the fast kernels with the reference loops (or with NumPy, per backend)
SIMD_TESTS=(test_backends.py test_ops_elementwise.py test_ops_matmul.py test_ops_reduce.py test_optimizers.py
            test_functional_conv.py test_functional_pool.py
            test_functional_conv_transpose.py  # GEMM + col2im
            test_conv_hypothesis.py  # conv/pool against NumPy loops on random geometries (GEMM inside)
            test_functional_rnn.py  # the fused recurrent kernels (GEMMs of every SIMD path)
            test_info.py::test_info_shows_the_simd_path_in_effect)
# the pytest run under ASan + UBSan: every module, so a new test file is covered without being
# listed, but for the MNIST / digits accuracy runs (minutes under ASan) and the modules that only
# start subprocesses (examples, info: their children would not load the instrumented module) or
# read dataset files
ASAN_TESTS=(. --ignore=test_examples.py --ignore=test_info.py --ignore=test_datasets.py
            --deselect test_models.py::test_mnist_mlp_reaches_97_percent_in_two_epochs
            --deselect test_models.py::test_digits_reach_95_percent)

TIMES=()
TIMES_FILE=$(mktemp)
trap 'rm -f "$TIMES_FILE"' EXIT
cpu_now() {  # CPU=user + system seconds of everything this shell has waited for
  times > "$TIMES_FILE"  # in this shell: in a pipeline, `times` would count a subshell's children
  CPU=$(awk 'NR == 2 { t = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); t += a[1] * 60 + a[2] }
                       printf "%d", t }' "$TIMES_FILE")
}
part() {  # part NAME COMMAND...: run it, record its wall time and CPU time
  local name=$1 start=$SECONDS cpu0
  shift
  cpu_now; cpu0=$CPU
  echo "== $name"
  "$@"
  cpu_now
  TIMES+=("$(printf '%5d s wall %6d s cpu  %s' $((SECONDS - start)) $((CPU - cpu0)) "$name")")
}
pytest_in_tests() { (cd tests && "$@" -m pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}"); }

# The C++ tests build in the same tree as the module (PYDL_BUILD_TESTS=ON), so the core
# library is compiled once per configuration: Release here, ASan + UBSan below.
part "pip install .[test] (and build the C++ tests in build/release)" \
  "$PY" -m pip install -q -C build-dir=build/release -C cmake.define.PYDL_BUILD_TESTS=ON ".[test]"

PYTEST_ARGS=(.)
part "pytest" pytest_in_tests "$PY"

for simd in "${SIMD_PATHS[@]}"; do
  PYTEST_ARGS=("${SIMD_TESTS[@]}")
  part "pytest, fast vs reference, PYDL_SIMD=$simd" pytest_in_tests env PYDL_SIMD="$simd" "$PY"
done

part "ctest" ctest --test-dir build/release --output-on-failure
for simd in "${SIMD_PATHS[@]}"; do
  part "ctest, PYDL_SIMD=$simd" env PYDL_SIMD="$simd" ctest --test-dir build/release --output-on-failure
done

build_asan() {
  # -O1 -g1: the sanitizers need no more to catch and report (function names and line numbers),
  # and the instrumented build compiles in about half the time of -O2 -g (the CI budget).
  # The build requirements must be importable (no build isolation keeps build/asan-py/build
  # incremental between runs); pyproject.toml names them.
  if ! "$PY" -c "import scikit_build_core, pybind11, Cython" 2> /dev/null; then
    "$PY" -m pip install -q "scikit-build-core>=0.10" "pybind11>=2.12" "cython>=3.0"
  fi
  rm -rf build/asan-py/site
  "$PY" -m pip install -q --no-build-isolation --no-deps --target build/asan-py/site \
    -C build-dir=build/asan-py/build -C cmake.build-type=RelWithDebInfo \
    -C "cmake.define.CMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" \
    -C cmake.define.PYDL_SANITIZE=ON -C cmake.define.PYDL_BUILD_TESTS=ON .
}
part "ASan + UBSan build (the module and the C++ tests)" build_asan
part "ctest under ASan + UBSan" env ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build/asan-py/build --output-on-failure

ASAN_RT=$(gcc -print-file-name=libasan.so)
UBSAN_RT=$(gcc -print-file-name=libubsan.so)
asan_env=(env PYTHONPATH="$ROOT/build/asan-py/site" LD_PRELOAD="$ASAN_RT:$UBSAN_RT"
          ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1)
# the instrumented module is the one imported, and it was built with the sanitizers
(cd tests && "${asan_env[@]}" "$PY" -c "
import pydl, sys
assert '/build/asan-py/site/' in pydl._C.__file__, pydl._C.__file__
with open(pydl._C.__file__, 'rb') as f:
    assert b'__asan_init' in f.read(), 'pydl._C is not instrumented with ASan'
print('   pydl._C under ASan + UBSan:', pydl._C.__file__)")
# --capture=sys: a sanitizer writes its report to file descriptor 2 and ends the process; with
# pytest's default fd capture that report would be swallowed with the test's captured output
PYTEST_ARGS=(--capture=sys "${ASAN_TESTS[@]}")
part "pytest under ASan + UBSan" pytest_in_tests "${asan_env[@]}" "$PY"

echo "== all passed; time per part (cpu: user + system over all cores; on a busy machine wall"
echo "   time is mostly waiting for a core):"
printf '%s\n' "${TIMES[@]}"
cpu_now
echo "$(printf '%5d s wall %6d s cpu' "$SECONDS" "$CPU")  in all"
