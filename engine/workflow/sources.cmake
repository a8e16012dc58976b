# The workflow loader and validator (SPEC §4): YAML/JSON into core::workflow, with diagnostics.
list(APPEND ORBITMESH_ENGINE_SOURCES
  workflow/build_context.cpp
  workflow/job_builder.cpp
  workflow/json_reader.cpp
  workflow/loader.cpp
  workflow/source_node.cpp
  workflow/step_builder.cpp
  workflow/step_types.cpp
  workflow/trigger_builder.cpp
  workflow/validate.cpp
  workflow/workflow_builder.cpp
  workflow/yaml_prescan.cpp
  workflow/yaml_reader.cpp
)
# The workflow runner: registry, event-sourced runs, step execution, HTTP routes (SPEC §4).
list(APPEND ORBITMESH_ENGINE_SOURCES
  workflow/run_api.cpp
  workflow/run_context.cpp
  workflow/run_ending.cpp
  workflow/run_feed.cpp
  workflow/run_settle.cpp
  workflow/run_steps.cpp
  workflow/run_walk.cpp
  workflow/runner.cpp
  workflow/run_rows.cpp
  workflow/workflow_registry.cpp
  workflow/workflow_routes.cpp
)
