// Which vector instruction set the fast CPU kernels use, picked once at run time.
//
// The library is built with portable flags (no -march=native), so plain loops compile to SSE2.
// A hot loop gets AVX2 / AVX-512 copies by wrapping it in functions that carry a target
// attribute (the loop body, inlined into each, is compiled for that instruction set) and
// calling the copy that matches the CPU:
//
//   #define PYDL_AXPY(ISA, TARGET) template <typename T> TARGET void axpy_##ISA(...) { loop }
//   PYDL_FOR_EACH_ISA(PYDL_AXPY)               // axpy_generic, axpy_avx2, axpy_avx512
//   pick(&axpy_generic<T>, &axpy_avx2<T>, &axpy_avx512<T>)(...);
//
// Every copy computes each element with the same scalar expression, so results match the
// reference loops within the usual rounding (FMA contraction may differ between copies).
// PYDL_SIMD=avx2|generic lowers the choice (for tests and benchmarks); it never raises it.
#pragma once
#include <cstdlib>
#include <cstring>

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define PYDL_X86 1
#define PYDL_TARGET_AVX2 __attribute__((target("avx2,fma")))
#define PYDL_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx2,fma")))
#else
#define PYDL_X86 0
#define PYDL_TARGET_AVX2
#define PYDL_TARGET_AVX512
#endif

namespace pydl::kernels {

enum SimdLevel { kGeneric = 0, kAvx2 = 1, kAvx512 = 2 };

inline SimdLevel detect_simd() {
  SimdLevel level = kGeneric;
#if PYDL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = kAvx2;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("fma"))
    level = kAvx512;
#endif
  if (const char* env = std::getenv("PYDL_SIMD")) {
    SimdLevel want = level;
    if (std::strcmp(env, "generic") == 0) want = kGeneric;
    else if (std::strcmp(env, "avx2") == 0) want = kAvx2;
    else if (std::strcmp(env, "avx512") == 0) want = kAvx512;
    level = want < level ? want : level;
  }
  return level;
}

// The level every fast kernel uses (thread-safe one-time initialisation, read-only after).
inline SimdLevel simd_level() {
  static const SimdLevel level = detect_simd();
  return level;
}

// One of three function pointers (or any values) by the CPU's level.
template <typename F>
inline F pick(F generic, F avx2, F avx512) {
  switch (simd_level()) {
    case kAvx512: return avx512;
    case kAvx2: return avx2;
    default: return generic;
  }
}

}  // namespace pydl::kernels

// DEFINE(ISA, TARGET) once per instruction set: a loop defined by a macro taking the copy's
// name suffix and its target attribute gets three copies, *_generic, *_avx2 and *_avx512. Inline
// functions the loop calls (the scalar functors of kernels/math.h) are inlined into each copy
// and compiled for its instruction set.
#define PYDL_FOR_EACH_ISA(DEFINE) \
  DEFINE(generic, )               \
  DEFINE(avx2, PYDL_TARGET_AVX2)  \
  DEFINE(avx512, PYDL_TARGET_AVX512)
