# Finds LibTorch, fmt, yaml-cpp and CLI11, and makes sure one copy of fmt is used.
#
# LibTorch: any install (the PyTorch wheel's, a libtorch zip, a CUDA build) given
# through CMAKE_PREFIX_PATH or Torch_DIR; by default we ask the Python wheel.
if(NOT Torch_DIR AND NOT DEFINED ENV{Torch_DIR})
  find_package(Python3 COMPONENTS Interpreter QUIET)
  if(Python3_FOUND)
    execute_process(
      COMMAND "${Python3_EXECUTABLE}" -c "import torch.utils; print(torch.utils.cmake_prefix_path)"
      OUTPUT_VARIABLE _torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
    if(_torch_prefix)
      list(APPEND CMAKE_PREFIX_PATH "${_torch_prefix}")
    endif()
  endif()
endif()
find_package(Torch REQUIRED)
message(STATUS "torchzoo: LibTorch ${Torch_VERSION} from ${Torch_DIR}")

find_package(fmt REQUIRED)
find_package(yaml-cpp REQUIRED)
find_package(CLI11 REQUIRED)
find_package(ZLIB REQUIRED)
find_package(PNG REQUIRED)

# SentencePiece (Debian libsentencepiece-dev) installs a pkg-config file but no
# CMake package: an imported target over the two libraries.
find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h)
find_library(SENTENCEPIECE_LIBRARY sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train)
if(NOT SENTENCEPIECE_INCLUDE_DIR OR NOT SENTENCEPIECE_LIBRARY OR NOT SENTENCEPIECE_TRAIN_LIBRARY)
  message(FATAL_ERROR "torchzoo: SentencePiece not found (install libsentencepiece-dev: bash scripts/setup.sh)")
endif()
add_library(torchzoo_sentencepiece INTERFACE)
target_include_directories(torchzoo_sentencepiece INTERFACE "${SENTENCEPIECE_INCLUDE_DIR}")
target_link_libraries(torchzoo_sentencepiece INTERFACE "${SENTENCEPIECE_TRAIN_LIBRARY}" "${SENTENCEPIECE_LIBRARY}")

# fmt: LibTorch ships its own fmt headers (12.x in torch 2.13) in its include
# folder, which the Torch target puts ahead of /usr/include. Including those
# headers while linking Debian's libfmt (9.x) would mix two versions. We put a
# folder holding only a link to the found fmt's headers first on the include
# path, and check FMT_VERSION at compile time (layers/detail/format.h).
get_target_property(_fmt_hint fmt::fmt INTERFACE_INCLUDE_DIRECTORIES)
find_path(_fmt_header_dir fmt/format.h HINTS ${_fmt_hint} NO_DEFAULT_PATH)
if(NOT _fmt_header_dir)
  find_path(_fmt_header_dir fmt/format.h)
endif()
set(TORCHZOO_FMT_INCLUDE_DIR "${CMAKE_CURRENT_BINARY_DIR}/fmt-include")
file(MAKE_DIRECTORY "${TORCHZOO_FMT_INCLUDE_DIR}")
file(CREATE_LINK "${_fmt_header_dir}/fmt" "${TORCHZOO_FMT_INCLUDE_DIR}/fmt" SYMBOLIC)
string(REPLACE "." ";" _fmt_parts "${fmt_VERSION}")
list(GET _fmt_parts 0 _fmt_major)
list(GET _fmt_parts 1 _fmt_minor)
list(GET _fmt_parts 2 _fmt_patch)
math(EXPR TORCHZOO_FMT_VERSION "${_fmt_major} * 10000 + ${_fmt_minor} * 100 + ${_fmt_patch}")
message(STATUS "torchzoo: fmt ${fmt_VERSION} headers from ${_fmt_header_dir}")
