// The SIMD level the fast kernels use: the CPU's best, lowered (never raised) by PYDL_SIMD.
// scripts/test_all.sh runs every ctest executable again under PYDL_SIMD=avx2 and =generic; this
// test fails if the forced level is not the one in effect, so those runs cannot silently test
// the AVX-512 path again.
#include <cstdlib>
#include <cstring>

#include "check.h"
#include "kernels/cpu/isa.h"
#include "kernels/kernels.h"

using namespace pydl::kernels;

static SimdLevel cpu_best() {
#if PYDL_X86
  __builtin_cpu_init();
  const bool fma = __builtin_cpu_supports("fma");
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && fma)
    return kAvx512;
  if (__builtin_cpu_supports("avx2") && fma) return kAvx2;
#endif
  return kGeneric;
}

TEST(forced_level_is_in_effect) {
  SimdLevel want = cpu_best();
  if (const char* env = std::getenv("PYDL_SIMD")) {
    SimdLevel asked = want;
    if (std::strcmp(env, "generic") == 0) asked = kGeneric;
    if (std::strcmp(env, "avx2") == 0) asked = kAvx2;
    if (asked < want) want = asked;
    std::printf("  PYDL_SIMD=%s: kernels run %s\n", env, gemm_simd_path());
  }
  CHECK(simd_level() == want);
  const char* names[] = {"generic", "avx2", "avx512"};
  CHECK(std::strcmp(gemm_simd_path(), names[want]) == 0);
  // pick() hands out the copy of that level
  CHECK(pick(0, 1, 2) == static_cast<int>(want));
}

RUN_ALL_TESTS()
