# torchzoo_fmt_include_dir(<folder>): after find_package(fmt), makes <folder>
# hold only a link `fmt` to the found fmt's headers, and sets
# TORCHZOO_FMT_VERSION (FMT_VERSION's encoding: major * 10000 + minor * 100 + patch)
# in the caller's scope.
#
# LibTorch ships its own fmt headers in its include folder, which the Torch
# target puts ahead of /usr/include; <folder> goes first on the include path so
# that `#include <fmt/format.h>` reaches the fmt we link. Used by the build
# (cmake/TorchzooDependencies.cmake) and by the installed package
# (torchzooConfig.cmake), which makes such a folder in the consumer's build tree.
function(torchzoo_fmt_include_dir folder)
  get_target_property(_fmt_hint fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
  find_path(TORCHZOO_FMT_HEADER_DIR fmt/format.h HINTS ${_fmt_hint} NO_DEFAULT_PATH)
  if(NOT TORCHZOO_FMT_HEADER_DIR)
    find_path(TORCHZOO_FMT_HEADER_DIR fmt/format.h)
  endif()
  if(NOT TORCHZOO_FMT_HEADER_DIR)
    message(FATAL_ERROR "torchzoo: the headers of fmt ${fmt_VERSION} (${_fmt_hint}) have no fmt/format.h")
  endif()
  file(MAKE_DIRECTORY "${folder}")
  file(CREATE_LINK "${TORCHZOO_FMT_HEADER_DIR}/fmt" "${folder}/fmt" SYMBOLIC)
  string(REPLACE "." ";" _fmt_parts "${fmt_VERSION}.0.0")
  list(GET _fmt_parts 0 _fmt_major)
  list(GET _fmt_parts 1 _fmt_minor)
  list(GET _fmt_parts 2 _fmt_patch)
  math(EXPR _version "${_fmt_major} * 10000 + ${_fmt_minor} * 100 + ${_fmt_patch}")
  set(TORCHZOO_FMT_VERSION "${_version}" PARENT_SCOPE)
endfunction()
