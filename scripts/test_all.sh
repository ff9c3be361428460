#!/usr/bin/env bash
# Install pydl with what the tests need, then run every test: pytest, the C++ unit tests
# (ctest), and the C++ unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   bash scripts/test_all.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
JOBS=${JOBS:-2}

echo "== pip install .[test]"
"$PY" -m pip install -q ".[test]"

echo "== pytest"
# run from outside the source tree so the installed package (with its compiled modules) is used
(cd tests && "$PY" -m pytest -q -p no:cacheprovider .)

echo "== ctest"
cmake -S . -B build/ctest -DPYDL_BUILD_PYTHON=OFF -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build build/ctest -j "$JOBS" > /dev/null
ctest --test-dir build/ctest --output-on-failure

echo "== ctest under ASan + UBSan"
cmake -S . -B build/asan -DPYDL_BUILD_PYTHON=OFF -DPYDL_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build/asan -j "$JOBS" > /dev/null
ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --test-dir build/asan --output-on-failure
