# SPDX-License-Identifier: Apache-2.0 OR MIT
# Packaging: the build tree is installed into a scratch prefix, then small
# consumer projects are configured, built and run the ways users take the
# library: find_package (installed and build tree, from C++ and from a C-only
# project), pkg-config from C99, and add_subdirectory of the source tree. Each
# consumer uses the project's compilers and flags (sanitizer builds pass theirs
# on). Then the shared library's exports and the uninstall script.
if(NOT ASYMFENCE_INSTALL)
  message(STATUS "asymfence: packaging tests need ASYMFENCE_INSTALL=ON; not added")
  return()
endif()

set(package_work ${CMAKE_CURRENT_BINARY_DIR}/package)
set(package_settings ${package_work}/settings.cmake)
find_program(ASYMFENCE_PKG_CONFIG NAMES pkg-config pkgconf)
if(NOT ASYMFENCE_PKG_CONFIG)
  message(FATAL_ERROR
    "pkg-config was not found; the packaging tests check asymfence.pc with it: install it "
    "(Debian and Ubuntu: apt-get install pkg-config), or configure with "
    "-DASYMFENCE_BUILD_TESTS=OFF (no tests) or -DASYMFENCE_INSTALL=OFF (no install rules "
    "and no packaging tests)")
endif()
configure_file(${CMAKE_CURRENT_LIST_DIR}/settings.cmake.in ${package_settings} @ONLY)

# Adds test package.<name> running one step of package_test.cmake; INSTALLED
# makes it wait for package.install.
function(asymfence_add_package_test name)
  cmake_parse_arguments(ARG "INSTALLED" "STEP" "ARGS" ${ARGN})
  add_test(NAME package.${name}
           COMMAND ${CMAKE_COMMAND} -DSETTINGS=${package_settings} -DSTEP=${ARG_STEP}
                   -DCONFIG=$<CONFIG> ${ARG_ARGS}
                   -P ${CMAKE_CURRENT_FUNCTION_LIST_DIR}/package_test.cmake)
  set_tests_properties(package.${name} PROPERTIES
    LABELS package TIMEOUT 300 SKIP_REGULAR_EXPRESSION "PACKAGE CHECK SKIPPED")
  if(ARG_INSTALLED)
    set_tests_properties(package.${name} PROPERTIES FIXTURES_REQUIRED asymfence_installed)
  endif()
endfunction()

asymfence_add_package_test(install STEP install)
set_tests_properties(package.install PROPERTIES FIXTURES_SETUP asymfence_installed)
# Both install the build tree, which rewrites its install_manifest.txt.
asymfence_add_package_test(uninstall STEP uninstall)
set_tests_properties(package.install package.uninstall PROPERTIES
  RESOURCE_LOCK asymfence_install_manifest)
asymfence_add_package_test(exports INSTALLED STEP exports)
asymfence_add_package_test(installed_files INSTALLED STEP installed_files)
asymfence_add_package_test(probe_installed INSTALLED STEP probe
  ARGS -DPROBE_BUILT=$<TARGET_EXISTS:asymfence-probe>)
asymfence_add_package_test(version INSTALLED STEP consumer
  ARGS -DCONSUMER=version -DAGAINST=installed)
asymfence_add_package_test(find_package INSTALLED STEP consumer
  ARGS -DCONSUMER=find_package -DAGAINST=installed)
asymfence_add_package_test(c_only INSTALLED STEP consumer
  ARGS -DCONSUMER=c_only -DAGAINST=installed)
asymfence_add_package_test(c_only_build_tree STEP consumer
  ARGS -DCONSUMER=c_only -DAGAINST=build_tree)
asymfence_add_package_test(pkg_config INSTALLED STEP pkg_config)
asymfence_add_package_test(build_tree STEP consumer
  ARGS -DCONSUMER=find_package -DAGAINST=build_tree)
asymfence_add_package_test(add_subdirectory STEP consumer
  ARGS -DCONSUMER=add_subdirectory -DAGAINST=source_tree)
