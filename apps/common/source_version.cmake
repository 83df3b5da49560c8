# Run at every build (cmake -P): writes OUTPUT, a C++ file defining the source version,
# only when it changed (so nothing is recompiled otherwise). The version is a SHA-256 over
# the engine's sources and the configuration files, relative path and content of each,
# so it is the same on every machine that builds the same tree, with or without git; the
# git commit is added for people to read when git knows it.
#   cmake -DSOURCE_DIR=... -DOUTPUT=... -P source_version.cmake
set(folders apps autograd bandit configs data engine kernels model objectives)
set(files "")
foreach(folder ${folders})
  file(GLOB_RECURSE found RELATIVE "${SOURCE_DIR}" "${SOURCE_DIR}/${folder}/*")
  list(APPEND files ${found})
endforeach()
list(APPEND files CMakeLists.txt)
list(FILTER files EXCLUDE REGEX "(^|/)(\\.|__pycache__)")
list(FILTER files EXCLUDE REGEX "\\.md$")
list(SORT files)
set(digest "")
foreach(f ${files})
  file(SHA256 "${SOURCE_DIR}/${f}" h)
  string(APPEND digest "${f} ${h}\n")
endforeach()
string(SHA256 version "${digest}")
string(SUBSTRING "${version}" 0 16 version)

set(commit "unknown")
find_package(Git QUIET)
if(GIT_FOUND)
  execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" rev-parse --short=12 HEAD
                  OUTPUT_VARIABLE head RESULT_VARIABLE failed OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  if(NOT failed)
    set(commit "${head}")
    execute_process(COMMAND "${GIT_EXECUTABLE}" -C "${SOURCE_DIR}" status --porcelain --untracked-files=no
                    OUTPUT_VARIABLE changes ERROR_QUIET)
    if(changes)
      set(commit "${commit} with changes")
    endif()
  endif()
endif()

set(text "// Written by apps/common/source_version.cmake at build time.\n#include \"apps/common/source_version.h\"\n\nnamespace birdie::apps {\nstd::string_view source_version() { return \"${version}\"; }\nstd::string_view source_commit() { return \"${commit}\"; }\n}  // namespace birdie::apps\n")
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" old)
endif()
if(NOT "${old}" STREQUAL "${text}")
  file(WRITE "${OUTPUT}" "${text}")
endif()
