# SPDX-License-Identifier: Apache-2.0 OR MIT
# The fence strategy: accepted and sound in the checked-light build
# (ASYMFENCE_CHECKED_LIGHT=ON, preset `checked`), refused in the default build.
add_executable(asymfence_checked_light_test ${CMAKE_CURRENT_LIST_DIR}/checked_light_test.cpp)
target_link_libraries(asymfence_checked_light_test PRIVATE
  asymfence_test_support GTest::gtest_main)
gtest_discover_tests(asymfence_checked_light_test DISCOVERY_TIMEOUT 60
                     PROPERTIES LABELS checked TIMEOUT 300)

# Selection's order of publication in the checked-light build, against the
# checked library (beside the default one in the other presets).
if(TARGET "${ASYMFENCE_CHECKED_VARIANT}")
  add_executable(asymfence_checked_selection_order_test
    ${CMAKE_CURRENT_LIST_DIR}/selection_order_test.cpp)
  target_include_directories(asymfence_checked_selection_order_test PRIVATE
    ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(asymfence_checked_selection_order_test PRIVATE
    ${ASYMFENCE_CHECKED_VARIANT} asymfence_instruction_stepper GTest::gtest_main)
  gtest_discover_tests(asymfence_checked_selection_order_test DISCOVERY_TIMEOUT 60
                       PROPERTIES LABELS checked TIMEOUT 300)
endif()
