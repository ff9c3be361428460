# Records which C++ sources a build of the Python modules came from, so that pydl imported from
# a source checkout can tell whether the install it borrows its compiled core from is current
# (pydl/_source_tree.py computes the same hash over the checkout and warns when they differ).
#
#   cmake -DROOT=<repository root> -DOUT=<file> -P cmake/pydl_source_hash.cmake
#
# The hash: SHA-256 of one line "relative/path:sha256-of-the-file" per hashed file, sorted by
# path. The hashed files are those of pydl/_source_tree.py (HASHED_*); keep the two lists equal.
file(GLOB_RECURSE _files RELATIVE ${ROOT}
  ${ROOT}/cpp/include/*.h ${ROOT}/cpp/include/*.hpp ${ROOT}/cpp/include/*.cpp ${ROOT}/cpp/include/*.cu ${ROOT}/cpp/include/*.cuh
  ${ROOT}/cpp/src/*.h ${ROOT}/cpp/src/*.hpp ${ROOT}/cpp/src/*.cpp ${ROOT}/cpp/src/*.cu ${ROOT}/cpp/src/*.cuh
  ${ROOT}/cpp/bindings/*.h ${ROOT}/cpp/bindings/*.hpp ${ROOT}/cpp/bindings/*.cpp ${ROOT}/cpp/bindings/*.cu
  ${ROOT}/cpp/bindings/*.cuh
  ${ROOT}/cmake/*.cmake)
foreach(_f CMakeLists.txt pydl/data/_batching.pyx pydl/data/_augment.pyx)
  if(EXISTS ${ROOT}/${_f})
    list(APPEND _files ${_f})
  endif()
endforeach()
list(REMOVE_DUPLICATES _files)
list(SORT _files)
set(_lines "")
foreach(_f ${_files})
  file(SHA256 ${ROOT}/${_f} _h)
  string(APPEND _lines "${_f}:${_h}\n")
endforeach()
string(SHA256 _hash "${_lines}")
# Rewrite only on change, so an unchanged tree does not reinstall a new file every build.
set(_old "")
if(EXISTS ${OUT})
  file(READ ${OUT} _old)
endif()
if(NOT _old STREQUAL "${_hash}\n")
  file(WRITE ${OUT} "${_hash}\n")
endif()
