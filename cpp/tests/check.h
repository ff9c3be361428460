// A tiny test harness: CHECK(cond), CHECK_CLOSE(a, b, tol), CHECK_THROWS(expr, Type).
// Each test executable defines TEST(name) blocks and ends with RUN_ALL_TESTS().
#pragma once
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

namespace pydl_test {
struct Case { const char* name; std::function<void()> fn; };
inline std::vector<Case>& registry() { static std::vector<Case> r; return r; }
inline int& failures() { static int f = 0; return f; }
struct Register { Register(const char* n, std::function<void()> f) { registry().push_back({n, f}); } };
inline int run_all() {
  int failed_cases = 0;
  for (auto& c : registry()) {
    int before = failures();
    try { c.fn(); } catch (const std::exception& e) {
      std::printf("  unexpected exception in %s: %s\n", c.name, e.what()); failures()++;
    }
    bool ok = failures() == before;
    if (!ok) failed_cases++;
    std::printf("[%s] %s\n", ok ? "PASS" : "FAIL", c.name);
  }
  std::printf("%zu passed, %d failed\n", registry().size() - failed_cases, failed_cases);
  return failed_cases == 0 ? 0 : 1;
}
}  // namespace pydl_test

#define PYDL_CAT2(a, b) a##b
#define PYDL_CAT(a, b) PYDL_CAT2(a, b)
#define TEST(name) \
  static void name(); \
  static pydl_test::Register PYDL_CAT(reg_, name)(#name, name); \
  static void name()
#define CHECK(cond) do { if (!(cond)) { \
  std::printf("  %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); pydl_test::failures()++; } } while (0)
#define CHECK_CLOSE(a, b, tol) do { double _a = (a), _b = (b); \
  if (!(std::fabs(_a - _b) <= (tol) * (1.0 + std::fabs(_b)))) { \
    std::printf("  %s:%d: CHECK_CLOSE(%s, %s) failed: %.9g vs %.9g\n", __FILE__, __LINE__, #a, #b, _a, _b); \
    pydl_test::failures()++; } } while (0)
#define CHECK_THROWS(expr, Type) do { bool _thrown = false; \
  try { expr; } catch (const Type&) { _thrown = true; } catch (...) {} \
  if (!_thrown) { std::printf("  %s:%d: %s did not throw %s\n", __FILE__, __LINE__, #expr, #Type); \
    pydl_test::failures()++; } } while (0)
#define RUN_ALL_TESTS() int main() { return pydl_test::run_all(); }
