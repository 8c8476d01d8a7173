# nums_add_library(NAME ALIAS SOURCES ...): a static layer library with the project's warnings.
function(nums_add_library name)
  cmake_parse_arguments(ARG "" "ALIAS" "SOURCES" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  add_library(nums::${ARG_ALIAS} ALIAS ${name})
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME ${ARG_ALIAS})
  nums_set_warnings(${name})
endfunction()

function(nums_set_warnings target)
  # -Wrestrict: GCC 12 reports false positives inside std::string concatenation (GCC PR 105651).
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter -Wno-restrict)
endfunction()

# nums_add_test(NAME SOURCES ... LIBS ...): one GoogleTest binary registered with ctest.
function(nums_add_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} nums_testing GTest::gtest GTest::gtest_main)
  nums_set_warnings(${name})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 PROPERTIES TIMEOUT ${ARG_TIMEOUT})
endfunction()

# nums_add_bench(NAME SOURCES ... LIBS ...): one Google Benchmark binary.
function(nums_add_bench name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} benchmark::benchmark)
  nums_set_warnings(${name})
endfunction()
