# SentencePiece (Debian libsentencepiece-dev) installs a pkg-config file but no
# CMake package: this makes the imported target torchzoo::sentencepiece over its
# two libraries, and sets TorchzooSentencePiece_FOUND.
#
# Used twice: by the build (cmake/TorchzooDependencies.cmake) and by the installed
# package (torchzooConfig.cmake). torchzoo is a static library, so its private
# dependencies are link dependencies of every program that uses it; the exported
# target names this imported target, which the package config recreates for the
# consumer here rather than freezing the build machine's library paths.
if(TARGET torchzoo::sentencepiece)
  set(TorchzooSentencePiece_FOUND TRUE)
  return()
endif()
find_path(SENTENCEPIECE_INCLUDE_DIR sentencepiece_processor.h)
find_library(SENTENCEPIECE_LIBRARY sentencepiece)
find_library(SENTENCEPIECE_TRAIN_LIBRARY sentencepiece_train)
if(NOT SENTENCEPIECE_INCLUDE_DIR OR NOT SENTENCEPIECE_LIBRARY OR NOT SENTENCEPIECE_TRAIN_LIBRARY)
  set(TorchzooSentencePiece_FOUND FALSE)
  return()
endif()
set(TorchzooSentencePiece_FOUND TRUE)
add_library(torchzoo::sentencepiece INTERFACE IMPORTED)
set_target_properties(torchzoo::sentencepiece PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${SENTENCEPIECE_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${SENTENCEPIECE_TRAIN_LIBRARY};${SENTENCEPIECE_LIBRARY}")
