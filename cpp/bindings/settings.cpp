// Settings, the generator, and what the build contains (python -m pydl info).
#include "common.h"
#include "kernels/kernels.h"
#include "pydl/random.h"
#include "pydl/settings.h"

namespace pydl::bind {

void bind_settings(py::module_& m) {
  m.def("set_backend", [](const std::string& b) { settings::set_backend(b); }, py::arg("name"),
        "'fast' (blocked, SIMD, OpenMP kernels) or 'reference' (the plain loops)");
  m.def("get_backend", [] { return std::string(settings::backend_name()); });
  m.def("set_num_threads", &settings::set_num_threads, py::arg("n"));
  m.def("get_num_threads", &settings::num_threads);
  m.def("manual_seed", [](uint64_t s) { random::manual_seed(s); }, py::arg("seed"));
  m.def("initial_seed", &random::initial_seed);
  m.def("_build_info", [] {
    py::dict d;
    d["version"] = PYDL_VERSION;
#if defined(__clang__)
    d["compiler"] = std::string("clang ") + __clang_version__;
#elif defined(__GNUC__)
    d["compiler"] = std::string("gcc ") + __VERSION__;
#else
    d["compiler"] = "unknown";
#endif
    d["openmp"] = settings::openmp_enabled();
    d["num_threads"] = settings::num_threads();
    py::list simd;
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2")) simd.append("avx2");
    if (__builtin_cpu_supports("fma")) simd.append("fma");
    if (__builtin_cpu_supports("avx512f")) simd.append("avx512f");
#endif
    d["simd"] = simd;
    d["gemm_path"] = kernels::gemm_simd_path();
    d["cuda_built"] = false;
    d["cuda_available"] = false;
    return d;
  });
}

}  // namespace pydl::bind
