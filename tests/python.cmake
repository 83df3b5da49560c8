# The Python module and its lm-evaluation-harness model against the programs
# (python/tests/python_module.sh): needs the module (BIRDIE_PYTHON), every app, and numpy and
# lm_eval (scripts/setup_python.sh, run by scripts/test.sh). Without the module the test is
# reported as skipped.
if(BIRDIE_PYTHON)
  add_test(NAME python_module
           COMMAND bash ${PROJECT_SOURCE_DIR}/python/tests/python_module.sh ${PROJECT_BINARY_DIR}
                   ${PROJECT_SOURCE_DIR} ${Python3_EXECUTABLE})
  set_tests_properties(python_module PROPERTIES TIMEOUT 900)
else()
  add_test(NAME python_module
           COMMAND sh -c "echo 'the Python module was not built (BIRDIE_PYTHON is off: it needs pybind11-dev and Python headers)'; exit 77")
  set_tests_properties(python_module PROPERTIES SKIP_RETURN_CODE 77)
endif()
