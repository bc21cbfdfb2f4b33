# ctest `install.consumer` (tests/CMakeLists.txt): installs the build tree into a
# fresh prefix, then configures, builds and runs examples/consumer against that
# prefix alone, as a project outside torchzoo would.
#
#   cmake -DTORCHZOO_BUILD_DIR=... -DTORCHZOO_SOURCE_DIR=... -DPYTHON=... \
#         -DCXX_COMPILER=... -DMAKE_PROGRAM=... [-DLIBDIR=lib -DBINDIR=bin -DINCLUDEDIR=include] \
#         -P consumer_test.cmake
#
# Everything happens in a new folder under the temporary directory, removed at
# the end (TORCHZOO_KEEP_SCRATCH=1 in the environment keeps it for debugging).
cmake_minimum_required(VERSION 3.18)
foreach(var TORCHZOO_BUILD_DIR TORCHZOO_SOURCE_DIR PYTHON CXX_COMPILER MAKE_PROGRAM)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
  endif()
endforeach()
# The build's GNUInstallDirs folders (lib/x86_64-linux-gnu for a /usr prefix).
foreach(var_dir LIBDIR=lib BINDIR=bin INCLUDEDIR=include)
  string(REPLACE "=" ";" var_dir "${var_dir}")
  list(GET var_dir 0 var)
  list(GET var_dir 1 dir)
  if(NOT DEFINED ${var})
    set(${var} "${dir}")
  endif()
endforeach()

if(DEFINED ENV{TMPDIR} AND IS_DIRECTORY "$ENV{TMPDIR}")
  set(tmp_root "$ENV{TMPDIR}")
else()
  set(tmp_root "/tmp")
endif()
string(TIMESTAMP stamp "%Y%m%d%H%M%S")
string(RANDOM LENGTH 8 token)
set(scratch "${tmp_root}/torchzoo-install-test-${stamp}-${token}")
if(EXISTS "${scratch}")
  message(FATAL_ERROR "scratch folder ${scratch} exists already")
endif()
file(MAKE_DIRECTORY "${scratch}")
set(prefix "${scratch}/prefix")

macro(cleanup)
  if("$ENV{TORCHZOO_KEEP_SCRATCH}" STREQUAL "1")
    message(STATUS "kept ${scratch}")
  else()
    file(REMOVE_RECURSE "${scratch}")
  endif()
endmacro()
macro(fail)
  cleanup()
  message(FATAL_ERROR ${ARGN})
endmacro()

# Runs a command (echoed), output to the test log; fails the test unless it exits with 0.
# The output is left in `run_output`.
function(run step)
  string(REPLACE ";" " " shown "${ARGN}")
  message(STATUS "[${step}] ${shown}")
  string(TIMESTAMP start "%s")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(TIMESTAMP end "%s")
  math(EXPR seconds "${end} - ${start}")
  message("${out}")
  message(STATUS "[${step}] ${seconds} s")
  if(NOT rc EQUAL 0)
    set(failed_step "${step} (exit status ${rc})" PARENT_SCOPE)
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()
macro(run_or_fail step)
  unset(failed_step)
  run(${step} ${ARGN})
  if(DEFINED failed_step)
    fail("${failed_step} failed")
  endif()
endmacro()

# 1. Install.
run_or_fail(install "${CMAKE_COMMAND}" --install "${TORCHZOO_BUILD_DIR}" --prefix "${prefix}")
foreach(file
    ${LIBDIR}/libtorchzoo_common.a ${LIBDIR}/libtorchzoo_layers.a ${LIBDIR}/libtorchzoo_models.a
    ${LIBDIR}/libtorchzoo_data.a ${LIBDIR}/libtorchzoo_train.a ${LIBDIR}/libtorchzoo_configs.a
    ${LIBDIR}/libtorchzoo_families.a ${BINDIR}/torchzoo
    ${LIBDIR}/cmake/torchzoo/torchzooConfig.cmake ${LIBDIR}/cmake/torchzoo/torchzooConfigVersion.cmake
    ${LIBDIR}/cmake/torchzoo/torchzoo_layers_targets.cmake ${LIBDIR}/cmake/torchzoo/torchzoo_families_targets.cmake
    ${INCLUDEDIR}/torchzoo/layers/layers.h ${INCLUDEDIR}/torchzoo/common/format.h
    ${INCLUDEDIR}/torchzoo/models/models.h ${INCLUDEDIR}/torchzoo/data/masks.h
    ${INCLUDEDIR}/torchzoo/train/trainer.h ${INCLUDEDIR}/torchzoo/configs/config.h)
  if(NOT EXISTS "${prefix}/${file}")
    fail("install: ${prefix}/${file} is missing")
  endif()
endforeach()
if(IS_SYMLINK "${prefix}/${INCLUDEDIR}/torchzoo")
  fail("install: ${INCLUDEDIR}/torchzoo is a link, expected a folder")
endif()
file(GLOB_RECURSE not_headers RELATIVE "${prefix}/${INCLUDEDIR}" "${prefix}/${INCLUDEDIR}/*")
list(FILTER not_headers EXCLUDE REGEX "\\.h$")
if(not_headers)
  fail("install: ${INCLUDEDIR}/ holds files other than headers: ${not_headers}")
endif()
run_or_fail(cli "${prefix}/${BINDIR}/torchzoo" --help)

# 2. A TorchScript file exported by the installed torchzoo: a copy-task model trained
# for a moment, then Python's output of that file on inputs of its own.
run_or_fail(train "${prefix}/${BINDIR}/torchzoo" train "${TORCHZOO_SOURCE_DIR}/configs/copy_task_tiny.yaml"
  --set train.epochs=1 --set data.train_batches=2 --set data.valid_batches=1 --out "${scratch}/run")
run_or_fail(export "${prefix}/${BINDIR}/torchzoo" export --checkpoint "${scratch}/run/checkpoint.pt"
  --format torchscript -o "${scratch}/script/model.pt")
run_or_fail(torchscript "${PYTHON}" "${TORCHZOO_SOURCE_DIR}/tests/install/consumer_inputs.py"
  --model "${scratch}/script/model.pt" --out "${scratch}/script")

# 3. Configure and build the consumer against the prefix only (LibTorch is found
# through the hint recorded in the package). No build type: compiled without
# optimisation, a third faster, and the run takes a second either way.
run_or_fail(configure "${CMAKE_COMMAND}" -S "${TORCHZOO_SOURCE_DIR}/examples/consumer" -B "${scratch}/build" -G Ninja
  "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" -DCMAKE_BUILD_TYPE=
  "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_EXPORT_COMPILE_COMMANDS=ON)
run_or_fail(build "${CMAKE_COMMAND}" --build "${scratch}/build")

# The consumer's compile reaches torchzoo's fmt (the folder the package config
# makes) before LibTorch's copy. main.cpp also static_asserts FMT_VERSION.
file(READ "${scratch}/build/compile_commands.json" commands)
string(FIND "${commands}" "torchzoo-fmt-include" fmt_at)
string(FIND "${commands}" "/torch/include" torch_at)
if(fmt_at EQUAL -1 OR torch_at EQUAL -1 OR NOT fmt_at LESS torch_at)
  fail("consumer: expected torchzoo-fmt-include ahead of LibTorch's include folder in ${commands}")
endif()

# The consumer asks for the layers component alone: it links torchzoo's common and
# layers libraries and nothing of yaml-cpp, SentencePiece or the upper libraries.
file(READ "${scratch}/build/build.ninja" ninja)
foreach(unwanted yaml-cpp sentencepiece libtorchzoo_models libtorchzoo_data libtorchzoo_train libtorchzoo_configs
    libtorchzoo_families)
  if(ninja MATCHES "${unwanted}")
    fail("consumer: links ${unwanted}; torchzoo::layers should bring only LibTorch, fmt and torchzoo::common")
  endif()
endforeach()
if(NOT ninja MATCHES "libtorchzoo_layers\\.a" OR NOT ninja MATCHES "libtorchzoo_common\\.a")
  fail("consumer: expected libtorchzoo_layers.a and libtorchzoo_common.a on its link line")
endif()

# 4. Run it: training must lower the loss and the TorchScript output must match.
run_or_fail(run "${scratch}/build/consumer" --steps 40
  --script "${scratch}/script/model.pt" --inputs "${scratch}/script/inputs.pt" --expect "${scratch}/script/expect.pt")
foreach(expected "training: loss [0-9.]+ -> [0-9.]+ \\(fell\\)" "torchscript: .*model.pt.forward\\(4 inputs\\) -> \\[3, 5, 64\\].*\\(matches\\)")
  if(NOT run_output MATCHES "${expected}")
    fail("consumer: output does not match '${expected}'")
  endif()
endforeach()

cleanup()
message(STATUS "install.consumer: passed")
