# SPDX-License-Identifier: Apache-2.0 OR MIT
# Removes what `cmake --install` installed, as its install_manifest.txt lists:
#   cmake -DMANIFEST=<build tree>/install_manifest.txt -P asymfence_uninstall.cmake
# The `uninstall` target runs this for its build tree. Every listed file is
# removed, then the directories that asymfence alone owns (include/asymfence,
# lib/cmake/asymfence) once they are empty. A file already gone is reported.
cmake_minimum_required(VERSION 3.25)

if(NOT MANIFEST)
  message(FATAL_ERROR "pass -DMANIFEST=<the install_manifest.txt that cmake --install wrote>")
endif()
if(NOT EXISTS "${MANIFEST}")
  message(FATAL_ERROR "${MANIFEST} does not exist: `cmake --install` writes it into the build "
                      "tree; without it there is no list of what to remove")
endif()

file(STRINGS "${MANIFEST}" installed)
set(owned_directories "")
set(removed 0)
foreach(path IN LISTS installed)
  if(NOT EXISTS "${path}" AND NOT IS_SYMLINK "${path}")
    message(STATUS "Already gone: ${path}")
    continue()
  endif()
  file(REMOVE "${path}")
  if(EXISTS "${path}" OR IS_SYMLINK "${path}")
    message(FATAL_ERROR "could not remove ${path} (installed as another user? then uninstall "
                        "as that user, e.g. with sudo)")
  endif()
  message(STATUS "Removed: ${path}")
  math(EXPR removed "${removed} + 1")
  get_filename_component(directory "${path}" DIRECTORY)
  get_filename_component(name "${directory}" NAME)
  if(name STREQUAL "asymfence")
    list(APPEND owned_directories "${directory}")
  endif()
endforeach()

list(REMOVE_DUPLICATES owned_directories)
foreach(directory IN LISTS owned_directories)
  file(GLOB left "${directory}/*")
  if(NOT left)
    file(REMOVE_RECURSE "${directory}")
    message(STATUS "Removed: ${directory}/")
  endif()
endforeach()
list(LENGTH installed listed)
message(STATUS "asymfence: removed ${removed} of the ${listed} files listed in ${MANIFEST}")
