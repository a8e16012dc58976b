# The workflow model, the expression language and the DAG checks (pure logic, SPEC §4).
list(APPEND ORBITMESH_CORE_SOURCES
  dag.cpp
  expression_error.cpp
  expression_eval.cpp
  expression_functions.cpp
  expression_lexer.cpp
  expression_parser.cpp
  expression_template.cpp
  workflow.cpp
  workflow_inputs.cpp
  workflow_diagnostic.cpp
  workflow_suggest.cpp
)
# Workflow runs: the run model and the fold of its events.
list(APPEND ORBITMESH_CORE_SOURCES
  run.cpp
  run_events.cpp
)
