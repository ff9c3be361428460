#include "pydl/settings.h"

#include "pydl/error.h"
#ifdef _OPENMP
#include <omp.h>
#endif

namespace pydl::settings {

static Backend g_backend = Backend::Fast;

Backend backend() { return g_backend; }
void set_backend(Backend b) { g_backend = b; }
void set_backend(const std::string& name) {
  if (name == "reference") g_backend = Backend::Reference;
  else if (name == "fast") g_backend = Backend::Fast;
  else throw ValueError(msg("set_backend: unknown backend '", name, "'; valid names: 'reference', 'fast'"));
}
const char* backend_name() { return g_backend == Backend::Fast ? "fast" : "reference"; }

void set_num_threads(int n) {
  if (n < 1) throw ValueError(msg("set_num_threads: need at least 1 thread, got ", n));
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
}
int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}
bool openmp_enabled() {
#ifdef _OPENMP
  return true;
#else
  return false;
#endif
}

}  // namespace pydl::settings
