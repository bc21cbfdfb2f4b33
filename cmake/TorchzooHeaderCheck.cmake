# torchzoo_header_check: each public header (TORCHZOO_PUBLIC_HEADERS, from
# cmake/TorchzooInstall.cmake) compiles on its own. One generated translation
# unit per header includes only that header, as <torchzoo/...>, outside the
# unity batches and without the library's precompiled <torch/torch.h>, so a
# header that leans on an include it does not make itself fails here.
#
# Cost: every unit parses the torch headers, ~15-20 s each on 2 cores, ~25 CPU
# minutes for ~80 headers. Most of that is one of two torch headers, so each unit
# is compiled with a precompiled header -- <torch/nn/cloneable.h> or else
# <torch/types.h> -- but only when the header's own includes, followed through
# torchzoo's headers, already include that torch header: precompiling it then
# makes visible nothing the header would not see alone, and the check stays
# exact. The rest compile with no precompiled header. (This reads the #include
# lines of torchzoo's headers; none is conditional.)
#
# Not part of the default build: the ctest test `headers.self_contained`
# (tests/CMakeLists.txt) builds it. -O0: the units are only compiled, never run.
set(_check_pch_headers torch/nn/cloneable.h torch/types.h)
set(_check_groups nn types plain)

# Direct includes of each public header: torchzoo ones (as paths in the source tree) and others.
# The grouping below depends on them, so editing a header re-runs CMake (~2 s) before the next build.
foreach(header IN LISTS TORCHZOO_PUBLIC_HEADERS)
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${header}")
  string(MAKE_C_IDENTIFIER "${header}" id)
  file(STRINGS "${PROJECT_SOURCE_DIR}/${header}" lines REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]")
  set(_own_${id} "")
  set(_other_${id} "")
  foreach(line IN LISTS lines)
    if(line MATCHES "include[ \t]*[<\"]torchzoo/([^>\"]+)[>\"]")
      list(APPEND _own_${id} "${CMAKE_MATCH_1}")
    elseif(line MATCHES "include[ \t]*[<\"]([^>\"]+)[>\"]")
      list(APPEND _other_${id} "${CMAKE_MATCH_1}")
    endif()
  endforeach()
endforeach()

set(_check_dir "${PROJECT_BINARY_DIR}/header_check")
foreach(group IN LISTS _check_groups)
  set(_check_sources_${group} "")
endforeach()
foreach(header IN LISTS TORCHZOO_PUBLIC_HEADERS)
  # The non-torchzoo headers that `header` includes, directly or through torchzoo headers.
  set(pending "${header}")
  set(seen "")
  set(reached "")
  while(pending)
    list(POP_FRONT pending current)
    if(current IN_LIST seen)
      continue()
    endif()
    list(APPEND seen "${current}")
    string(MAKE_C_IDENTIFIER "${current}" id)
    list(APPEND pending ${_own_${id}})
    list(APPEND reached ${_other_${id}})
  endwhile()
  set(group plain)
  foreach(candidate pch IN ZIP_LISTS _check_groups _check_pch_headers)
    if(pch IN_LIST reached)
      set(group "${candidate}")
      break()
    endif()
  endforeach()

  string(MAKE_C_IDENTIFIER "${header}" id)
  set(source "${_check_dir}/${id}.cpp")
  file(CONFIGURE OUTPUT "${source}" CONTENT "#include <torchzoo/${header}>\n" @ONLY)
  list(APPEND _check_sources_${group} "${source}")
endforeach()

add_custom_target(torchzoo_header_check)
foreach(group pch IN ZIP_LISTS _check_groups _check_pch_headers)
  if(NOT _check_sources_${group})
    continue()
  endif()
  set(target torchzoo_header_check_${group})
  add_library(${target} OBJECT EXCLUDE_FROM_ALL ${_check_sources_${group}})
  target_link_libraries(${target} PRIVATE torchzoo)
  target_compile_options(${target} PRIVATE -O0)
  set_target_properties(${target} PROPERTIES UNITY_BUILD OFF)
  if(pch)
    target_precompile_headers(${target} PRIVATE "<${pch}>")
  endif()
  add_dependencies(torchzoo_header_check ${target})
endforeach()
