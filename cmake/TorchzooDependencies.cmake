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
find_package(ICU REQUIRED COMPONENTS uc)  # WordPiece: Unicode categories, NFD and case mapping (Debian libicu-dev)
find_package(libzip REQUIRED)  # checks every member of a checkpoint archive before LibTorch reads it
find_package(nlohmann_json 3 REQUIRED)  # safetensors headers (Debian nlohmann-json3-dev)

# SentencePiece has no CMake package: cmake/TorchzooSentencePiece.cmake makes the
# imported target torchzoo::sentencepiece (the installed package config reuses it).
include(TorchzooSentencePiece)
if(NOT TorchzooSentencePiece_FOUND)
  message(FATAL_ERROR "torchzoo: SentencePiece not found (install libsentencepiece-dev: bash scripts/setup.sh)")
endif()
add_library(torchzoo_sentencepiece ALIAS torchzoo::sentencepiece)

# fmt: LibTorch ships its own fmt headers (12.x in torch 2.13) in its include
# folder, which the Torch target puts ahead of /usr/include. Including those
# headers while linking Debian's libfmt (9.x) would mix two versions. We put a
# folder holding only a link to the found fmt's headers first on the include
# path, and check FMT_VERSION at compile time (common/format.h).
# cmake/TorchzooFmt.cmake does this (the installed package config reuses it).
include(TorchzooFmt)
set(TORCHZOO_FMT_INCLUDE_DIR "${CMAKE_CURRENT_BINARY_DIR}/fmt-include")
torchzoo_fmt_include_dir("${TORCHZOO_FMT_INCLUDE_DIR}")
message(STATUS "torchzoo: fmt ${fmt_VERSION} headers from ${TORCHZOO_FMT_HEADER_DIR}")
