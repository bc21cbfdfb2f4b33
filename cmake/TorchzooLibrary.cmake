# torchzoo_library(NAME SOURCES ... [PUBLIC deps...] [PRIVATE deps...])
#
# One static library per folder: target torchzoo_<NAME>, used as torchzoo::<NAME>
# (an alias in the build, the exported name once installed), file
# libtorchzoo_<NAME>.a. The folders link in one direction only -- common <-
# layers <- models <- data, train <- configs <- families -- so the linker refuses
# a call into a folder above; cmake/TorchzooLayering.cmake refuses the #include.
#
# All library targets share one precompiled <torch/torch.h>, built by the first
# (torchzoo_common); others reuse it (TORCHZOO_PCH_TARGET).
set(TORCHZOO_PCH_TARGET torchzoo_common)

function(torchzoo_library name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;PUBLIC;PRIVATE")
  set(target torchzoo_${name})
  add_library(${target} STATIC ${arg_SOURCES})
  add_library(torchzoo::${name} ALIAS ${target})
  set_target_properties(${target} PROPERTIES EXPORT_NAME ${name})
  target_include_directories(${target} PUBLIC
    "$<BUILD_INTERFACE:${TORCHZOO_FMT_INCLUDE_DIR}>"
    "$<BUILD_INTERFACE:${TORCHZOO_BUILD_INCLUDE_DIR}>"
    "$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>")
  target_link_libraries(${target} PUBLIC ${arg_PUBLIC} PRIVATE ${arg_PRIVATE})
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  if(TORCHZOO_USE_PCH)
    if(target STREQUAL TORCHZOO_PCH_TARGET)
      target_precompile_headers(${target} PRIVATE <torch/torch.h>)
    else()
      target_precompile_headers(${target} REUSE_FROM ${TORCHZOO_PCH_TARGET})
    endif()
  endif()
endfunction()
