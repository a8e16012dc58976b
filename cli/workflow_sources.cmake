# `orbitmesh workflow …` (SPEC §1, §4).
list(APPEND ORBITMESH_CLI_SOURCES workflow_cmd.cpp)
