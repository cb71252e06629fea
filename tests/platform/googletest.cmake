# SPDX-License-Identifier: Apache-2.0 OR MIT
# GoogleTest for cross builds: no build of it is installed for the target, so
# it is built from source with the cross compiler. Debian ships the sources in
# package googletest (/usr/src/googletest).
set(ASYMFENCE_GOOGLETEST_SOURCE_DIR /usr/src/googletest CACHE PATH
    "GoogleTest sources, built for the target when cross-compiling")
if(NOT EXISTS ${ASYMFENCE_GOOGLETEST_SOURCE_DIR}/CMakeLists.txt)
  message(FATAL_ERROR
    "Cross-compiling the tests needs GoogleTest's sources: install Debian's googletest "
    "(apt-get install googletest) or set ASYMFENCE_GOOGLETEST_SOURCE_DIR")
endif()
set(INSTALL_GTEST OFF CACHE BOOL "Do not install the GoogleTest built for the tests")
add_subdirectory(${ASYMFENCE_GOOGLETEST_SOURCE_DIR} ${PROJECT_BINARY_DIR}/googletest
                 EXCLUDE_FROM_ALL)
# GoogleTest 1.12 defines the names find_package(GTest) gives (GTest::gtest_main).
if(NOT TARGET GTest::gtest_main)
  message(FATAL_ERROR "${ASYMFENCE_GOOGLETEST_SOURCE_DIR} defines no GTest::gtest_main: "
                      "GoogleTest 1.11 or later is needed")
endif()
