# Every reader's fuzz harness (tests/fuzz/) replays its seeds and the inputs of past
# findings, then runs a fixed number of mutated inputs from a seed drawn from the commit
# and the day (printed, with the command that replays a failure: tests/fuzz/run_harness.sh), under
# AddressSanitizer and UndefinedBehaviorSanitizer (label "fuzz"; a few seconds each). A
# sanitized tree (BIRDIE_SANITIZE, BIRDIE_LIBFUZZER) builds the harnesses itself; any other
# builds them in a sanitized sub-build of its own, <build>/fuzz-asan (the libraries they
# link and the harnesses only), as part of `cmake --build`.
option(BIRDIE_FUZZ_TESTS "Run the readers' fuzz harnesses under ASan and UBSan in CTest" ON)
if(BIRDIE_FUZZ_HARNESSES)
  set(birdie_fuzz_binaries ${PROJECT_BINARY_DIR}/tests/fuzz)
elseif(BIRDIE_FUZZ_TESTS)
  include(ExternalProject)
  set(birdie_fuzz_binaries ${PROJECT_BINARY_DIR}/fuzz-asan/tests/fuzz)
  if(CMAKE_GENERATOR MATCHES "Makefiles")
    set(birdie_fuzz_build $(MAKE) fuzz_harnesses)  # shares the jobs of the build around it
  else()
    set(birdie_fuzz_build ${CMAKE_COMMAND} --build <BINARY_DIR> --target fuzz_harnesses)
  endif()
  ExternalProject_Add(fuzz_harnesses_sanitized
    SOURCE_DIR ${PROJECT_SOURCE_DIR}
    BINARY_DIR ${PROJECT_BINARY_DIR}/fuzz-asan
    STAMP_DIR ${PROJECT_BINARY_DIR}/fuzz-asan/stamps  # deleting the folder configures it again
    # -O1 with line tables: a third of -O2 -g's compile time under the sanitizers; asserts on.
    CMAKE_ARGS -DCMAKE_BUILD_TYPE=RelWithDebInfo "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1"
               -DCMAKE_CXX_COMPILER=${CMAKE_CXX_COMPILER} -DBIRDIE_SANITIZE=ON -DBIRDIE_CUDA=OFF -DBIRDIE_TESTS=OFF
               -DBIRDIE_FUZZ_HARNESSES=ON
    BUILD_COMMAND ${birdie_fuzz_build}
    INSTALL_COMMAND ""
    BUILD_ALWAYS ON)
else()
  return()
endif()

function(birdie_fuzz_harness name)
  cmake_parse_arguments(HARNESS "" "RUNS" "LIBS;SEEDS" ${ARGN})
  set(seeds)
  foreach(seed ${HARNESS_SEEDS})
    list(APPEND seeds ${PROJECT_SOURCE_DIR}/${seed})
  endforeach()
  if(EXISTS ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${name})
    list(APPEND seeds ${PROJECT_SOURCE_DIR}/tests/fuzz/regressions/${name})
  endif()
  add_test(NAME fuzz_${name}
           COMMAND bash ${PROJECT_SOURCE_DIR}/tests/fuzz/run_harness.sh ${birdie_fuzz_binaries}/fuzz_${name}
                   ${CMAKE_CURRENT_BINARY_DIR}/fuzz-work/${name} -runs=${HARNESS_RUNS} -max_len=65536
                   -timeout=60 -malloc_limit_mb=512 -- ${seeds})
  set_tests_properties(fuzz_${name} PROPERTIES LABELS fuzz)
endfunction()
include(${CMAKE_CURRENT_LIST_DIR}/fuzz/harnesses.cmake)
