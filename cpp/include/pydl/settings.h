// The global settings (the only mutable state besides the generator).
#pragma once
#include <string>

namespace pydl::settings {

enum class Backend { Reference, Fast };

// 'reference' runs the plain loops in kernels/reference; 'fast' the blocked, SIMD, OpenMP ones.
Backend backend();
void set_backend(Backend b);
void set_backend(const std::string& name);  // "reference" | "fast"
const char* backend_name();

void set_num_threads(int n);
int num_threads();
bool openmp_enabled();

}  // namespace pydl::settings
