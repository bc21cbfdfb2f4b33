# The include direction between torchzoo's folders: a file may include torchzoo
# headers only from its own folder and the folders below it. Included by the
# top-level CMakeLists.txt (a violation stops the configure step, so the build
# fails) and run as a script by the ctest test `layering` (tests/CMakeLists.txt),
# which also proves on a planted violation that the check catches one:
#
#   cmake -DTORCHZOO_LAYERING_ROOT=<source tree> -P cmake/TorchzooLayering.cmake
#
# train/ is layered inside: metrics/ is the lowest, then decode/ and export/, then
# the loop with its tasks (train/ and train/tasks/).

# <folder>: the folders its files may include from (besides its own).
set(_layers_common "")
set(_layers_layers common)
set(_layers_viz common)
set(_layers_models common layers)
set(_layers_data common)
set(_layers_train/metrics common)
set(_layers_train/decode common layers models data train/metrics)
set(_layers_train/export common layers models data)
set(_layers_train common layers models data train/metrics train/decode train/export train/tasks)
set(_layers_train/tasks ${_layers_train} train)
set(_layers_configs ${_layers_train} train)
set(_layers_families ${_layers_configs} configs)
set(_layers_tools common data)
set(_layers_cli ${_layers_families} families tools viz)
set(TORCHZOO_LAYERED_FOLDERS common layers viz models data train/metrics train/decode train/export train train/tasks
  configs families tools cli)

# The folder of a path relative to the source root, as the rules above name it
# ("layers/detail/linear.h" -> "layers", "train/decode/x.h" -> "train/decode").
function(_torchzoo_folder_of path out)
  string(REGEX MATCH "^(train/[a-z_]+)/[^/]+$" sub "${path}")
  if(sub)
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  else()
    string(REGEX MATCH "^([a-z_]+)/" top "${path}")
    set(${out} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  endif()
endfunction()

# Fails (FATAL_ERROR) listing every include of `root`'s sources that reaches a folder above its own.
function(torchzoo_check_layering root)
  set(violations "")
  foreach(folder IN LISTS TORCHZOO_LAYERED_FOLDERS)
    file(GLOB files RELATIVE "${root}" "${root}/${folder}/*.h" "${root}/${folder}/*.cpp"
      "${root}/${folder}/detail/*.h")
    foreach(file IN LISTS files)
      _torchzoo_folder_of("${file}" own)
      set(allowed ${own} ${_layers_${own}})
      file(STRINGS "${root}/${file}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*[<\"]torchzoo/")
      foreach(line IN LISTS includes)
        string(REGEX MATCH "torchzoo/([^>\"]+)" _ "${line}")
        set(included "${CMAKE_MATCH_1}")
        _torchzoo_folder_of("${included}" target)
        if(NOT target IN_LIST allowed)
          list(JOIN allowed ", " allowed_text)
          string(APPEND violations
            "\n  ${file} includes torchzoo/${included}: ${own}/ may include only ${allowed_text}")
        endif()
      endforeach()
    endforeach()
  endforeach()
  if(violations)
    message(FATAL_ERROR "torchzoo layering: a folder includes one above it "
      "(cmake/TorchzooLayering.cmake lists the direction):${violations}")
  endif()
endfunction()

if(CMAKE_SCRIPT_MODE_FILE)
  if(NOT TORCHZOO_LAYERING_ROOT)
    message(FATAL_ERROR "usage: cmake -DTORCHZOO_LAYERING_ROOT=<source tree> -P TorchzooLayering.cmake")
  endif()
  torchzoo_check_layering("${TORCHZOO_LAYERING_ROOT}")
  message(STATUS "torchzoo layering: ${TORCHZOO_LAYERING_ROOT} keeps the include direction")
endif()
