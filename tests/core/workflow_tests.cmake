# Tests of the expression language, the DAG checks and the workflow model (SPEC §4).
list(APPEND ORBITMESH_CORE_TESTS
  dag_test.cpp
  expression_fuzz_test.cpp
  expression_template_test.cpp
  expression_test.cpp
)
