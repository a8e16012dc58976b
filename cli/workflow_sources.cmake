# `orbitmesh workflow …` (SPEC §1, §4).
list(APPEND ORBITMESH_CLI_SOURCES workflow_cmd.cpp)
list(APPEND ORBITMESH_CLI_SOURCES workflow_triggers_cmd.cpp)  # issue 10
list(APPEND ORBITMESH_CLI_SOURCES twin_cmd.cpp)  # issue 10
list(APPEND ORBITMESH_CLI_SOURCES workflow_test_cmd.cpp)  # issue 14
