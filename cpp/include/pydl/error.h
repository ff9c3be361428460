// Typed errors. The binding maps them to Python: ShapeError and ValueError -> ValueError,
// IndexError -> IndexError, TypeError -> TypeError, RuntimeError -> RuntimeError.
// Messages name the op and the shapes: "matmul: cannot multiply (2, 3) by (4, 5): ...".
#pragma once
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace pydl {

struct Error : std::runtime_error { using std::runtime_error::runtime_error; };
struct ValueError : Error { using Error::Error; };
struct ShapeError : ValueError { using ValueError::ValueError; };
struct IndexError : Error { using Error::Error; };
struct TypeError : Error { using Error::Error; };
struct RuntimeError : Error { using Error::Error; };

// "(2, 3)" for a shape, "()" for a scalar, "(5,)" for a vector: as NumPy prints it.
inline std::string shape_str(const std::vector<int64_t>& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

namespace detail {
inline void cat(std::ostringstream&) {}
template <typename A, typename... R> void cat(std::ostringstream& o, const A& a, const R&... r) {
  o << a;
  cat(o, r...);
}
}  // namespace detail

// Concatenate anything printable into a message: msg("add: ", shape_str(a), " vs ", ...).
template <typename... A> std::string msg(const A&... a) {
  std::ostringstream o;
  detail::cat(o, a...);
  return o.str();
}

}  // namespace pydl
