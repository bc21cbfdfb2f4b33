# `cmake --install BUILD --prefix P` installs
#   P/lib/libtorchzoo_<common|layers|viz|models|data|train|configs|families>.a, P/bin/torchzoo (the CLI),
#   P/include/torchzoo/<folder>/**.h (headers only),
#   P/lib/cmake/torchzoo/: the CMake package, one component per library, so that
#     find_package(torchzoo 0.1 REQUIRED COMPONENTS layers)
#     target_link_libraries(app PRIVATE torchzoo::layers)
#   brings LibTorch, fmt and torchzoo::common only, and
#     find_package(torchzoo 0.1 REQUIRED)   # all components
#     target_link_libraries(app PRIVATE torchzoo::torchzoo)
#   everything (cmake/torchzooConfig.cmake.in says how). examples/consumer is such a project.
include(CMakePackageConfigHelpers)

set(TORCHZOO_INSTALL_CMAKEDIR "${CMAKE_INSTALL_LIBDIR}/cmake/torchzoo")

# The public headers: every .h of the library folders; the header check
# (cmake/TorchzooHeaderCheck.cmake) compiles each one alone.
set(TORCHZOO_HEADER_FOLDERS common layers layers/detail viz models data train train/tasks train/decode train/export
  train/metrics configs families)
set(TORCHZOO_PUBLIC_HEADERS "")
foreach(folder IN LISTS TORCHZOO_HEADER_FOLDERS)
  file(GLOB headers RELATIVE "${PROJECT_SOURCE_DIR}" CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/${folder}/*.h")
  list(SORT headers)
  list(APPEND TORCHZOO_PUBLIC_HEADERS ${headers})
  install(FILES ${headers} DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/torchzoo/${folder}")
endforeach()

# One export set per component, so that a consumer imports (and finds the
# dependencies of) only the components it asks for. The umbrella
# torchzoo::torchzoo comes with families, the top one.
set(TORCHZOO_COMPONENTS common layers viz models data train configs families)
foreach(component IN LISTS TORCHZOO_COMPONENTS)
  set(targets torchzoo_${component})
  if(component STREQUAL "families")
    list(APPEND targets torchzoo)
  endif()
  install(TARGETS ${targets} EXPORT torchzoo_${component}_targets ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}")
  install(EXPORT torchzoo_${component}_targets NAMESPACE torchzoo::
    FILE torchzoo_${component}_targets.cmake DESTINATION "${TORCHZOO_INSTALL_CMAKEDIR}")
endforeach()

# The CLI links LibTorch's shared libraries from wherever they were found (e.g.
# the Python wheel's site-packages): the installed executable keeps that folder
# on its RPATH (the other libraries are the system's).
if(TORCH_INSTALL_PREFIX)
  set_target_properties(torchzoo_cli PROPERTIES INSTALL_RPATH "${TORCH_INSTALL_PREFIX}/lib")
else()
  set_target_properties(torchzoo_cli PROPERTIES INSTALL_RPATH_USE_LINK_PATH ON)
endif()
install(TARGETS torchzoo_cli RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}")

# Recorded in the package config: the LibTorch and fmt this build used.
set(TORCHZOO_PACKAGE_TORCH_DIR "${Torch_DIR}")
set(TORCHZOO_PACKAGE_TORCH_VERSION "${Torch_VERSION}")
set(TORCHZOO_PACKAGE_FMT_VERSION "${TORCHZOO_FMT_VERSION}")
configure_package_config_file(
  "${CMAKE_CURRENT_LIST_DIR}/torchzooConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/package/torchzooConfig.cmake"
  INSTALL_DESTINATION "${TORCHZOO_INSTALL_CMAKEDIR}")
write_basic_package_version_file(
  "${PROJECT_BINARY_DIR}/package/torchzooConfigVersion.cmake"
  VERSION "${PROJECT_VERSION}" COMPATIBILITY SameMajorVersion)
install(FILES
  "${PROJECT_BINARY_DIR}/package/torchzooConfig.cmake"
  "${PROJECT_BINARY_DIR}/package/torchzooConfigVersion.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/TorchzooFmt.cmake"
  "${CMAKE_CURRENT_LIST_DIR}/TorchzooSentencePiece.cmake"
  DESTINATION "${TORCHZOO_INSTALL_CMAKEDIR}")
