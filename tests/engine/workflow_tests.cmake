# Tests of the workflow loader and validator (SPEC §4, §12). Data files live in tests/data/workflows.
set(ORBITMESH_WORKFLOW_TEST_SOURCES
  workflow_limits_test.cpp
  workflow_loader_test.cpp
  workflow_validate_test.cpp
)
list(APPEND ORBITMESH_ENGINE_TESTS ${ORBITMESH_WORKFLOW_TEST_SOURCES})
set_source_files_properties(${ORBITMESH_WORKFLOW_TEST_SOURCES} PROPERTIES
  COMPILE_DEFINITIONS "ORBITMESH_WORKFLOW_DATA=\"${CMAKE_CURRENT_SOURCE_DIR}/../data/workflows\"")
# The workflow runner against a fake job_port.
list(APPEND ORBITMESH_ENGINE_TESTS workflow_runner_test.cpp notify_worker_test.cpp trigger_engine_test.cpp)
# The original format (issue 16): the JavaScript sandbox with the real node, the dialect, new steps.
list(APPEND ORBITMESH_ENGINE_TESTS js_engine_test.cpp original_format_test.cpp original_runs_test.cpp)
set_source_files_properties(original_format_test.cpp PROPERTIES
  COMPILE_DEFINITIONS "ORBITMESH_WORKFLOW_DATA=\"${CMAKE_CURRENT_SOURCE_DIR}/../data/workflows\"")
