# tessera_add_library(NAME SOURCES... LINKS...): one layer = one static library tessera_NAME,
# aliased tessera::NAME, with the public headers under include/.
function(tessera_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINKS;PRIVATE_LINKS" ${ARGN})
  if(NOT ARG_SOURCES)
    # A layer whose folder has no sources yet still links (it is being written file by file).
    set(ARG_SOURCES ${CMAKE_CURRENT_BINARY_DIR}/tessera_${name}_empty.cpp)
    file(WRITE ${ARG_SOURCES} "// the ${name} layer has no sources yet\n")
  endif()
  add_library(tessera_${name} STATIC ${ARG_SOURCES})
  add_library(tessera::${name} ALIAS tessera_${name})
  target_include_directories(tessera_${name}
    PUBLIC ${PROJECT_SOURCE_DIR}/include
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(tessera_${name} PUBLIC ${ARG_LINKS} PRIVATE ${ARG_PRIVATE_LINKS})
endfunction()

# tessera_add_test(NAME SOURCES... LINKS... [LABELS ...]): one GoogleTest binary per layer.
function(tessera_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LINKS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LINKS} GTest::gtest GTest::gtest_main GTest::gmock)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_definitions(${name} PRIVATE
    TESSERA_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TESSERA_BINARY="$<TARGET_FILE:tessera>")
  add_dependencies(${name} tessera)
  set(labels ${ARG_LABELS})
  if(NOT labels)
    set(labels unit)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS "${labels}" DISCOVERY_TIMEOUT 60)
endfunction()
