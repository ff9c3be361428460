# The Cython data pipeline: pydl/data/<name>.pyx -> C++ -> the module pydl.data.<name>, for
# _batching (row gathers behind BatchIterator) and _augment (image augmentation kernels).
#
# Included by the top-level CMakeLists.txt where Python (Interpreter, Development.Module) has
# been found. Cython runs through ${Python_EXECUTABLE} -m cython, so the Cython that
# scikit-build-core installed from the build requirements is the one used. The kernels use
# typed memoryviews only, so no NumPy headers are needed. Without Cython the modules are
# skipped and pydl.data falls back to its NumPy kernels.

set(_pydl_cython_modules _batching _augment)

execute_process(
  COMMAND ${Python_EXECUTABLE} -m cython --version
  RESULT_VARIABLE _pydl_cython_rc
  OUTPUT_VARIABLE _pydl_cython_version
  ERROR_VARIABLE _pydl_cython_version
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_STRIP_TRAILING_WHITESPACE)
if(NOT _pydl_cython_rc EQUAL 0)
  message(WARNING "pydl: Cython not found for ${Python_EXECUTABLE} (pip install cython): "
                  "skipping pydl.data.{${_pydl_cython_modules}}; pydl.data uses its NumPy fallbacks")
  return()
endif()
message(STATUS "pydl: ${_pydl_cython_version}: building pydl.data.{${_pydl_cython_modules}}")

foreach(_pydl_mod IN LISTS _pydl_cython_modules)
  set(_pydl_pyx ${PROJECT_SOURCE_DIR}/pydl/data/${_pydl_mod}.pyx)
  set(_pydl_pyx_cpp ${CMAKE_CURRENT_BINARY_DIR}/cython/${_pydl_mod}.cpp)

  # C++ output so the module compiles with the project's one language and OpenMP::OpenMP_CXX.
  add_custom_command(
    OUTPUT ${_pydl_pyx_cpp}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_CURRENT_BINARY_DIR}/cython
    COMMAND ${Python_EXECUTABLE} -m cython --cplus -3 --module-name pydl.data.${_pydl_mod}
            -o ${_pydl_pyx_cpp} ${_pydl_pyx}
    DEPENDS ${_pydl_pyx}
    COMMENT "Cython: pydl/data/${_pydl_mod}.pyx -> ${_pydl_mod}.cpp"
    VERBATIM)

  Python_add_library(${_pydl_mod} MODULE WITH_SOABI ${_pydl_pyx_cpp})
  # Cython's generated code is not written to the project's warning level.
  if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
    target_compile_options(${_pydl_mod} PRIVATE -Wno-unused-function -Wno-unused-variable)
  endif()
  if(OpenMP_CXX_FOUND)
    # prange over rows or images; without OpenMP the same loops run on one thread.
    target_link_libraries(${_pydl_mod} PRIVATE OpenMP::OpenMP_CXX)
  endif()

  if(SKBUILD)
    install(TARGETS ${_pydl_mod} LIBRARY DESTINATION pydl/data)
  endif()
endforeach()
