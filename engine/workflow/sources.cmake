# The workflow loader and validator (SPEC §4): YAML/JSON into core::workflow, with diagnostics,
# the original OrbitMesh's dialect included. One list, also linked alone by the fuzz build
# (tests/fuzz/libfuzzer.cmake), so the two cannot drift.
set(ORBITMESH_WORKFLOW_LOADER_SOURCES
  workflow/build_context.cpp
  workflow/job_builder.cpp
  workflow/json_reader.cpp
  workflow/loader.cpp
  workflow/original_dialect.cpp
  workflow/original_literals.cpp
  workflow/original_pattern.cpp
  workflow/original_steps.cpp
  workflow/original_triggers.cpp
  workflow/source_node.cpp
  workflow/step_builder.cpp
  workflow/step_types.cpp
  workflow/trigger_builder.cpp
  workflow/trigger_mapping.cpp
  workflow/validate.cpp
  workflow/workflow_builder.cpp
  workflow/yaml_prescan.cpp
  workflow/yaml_reader.cpp
)
list(APPEND ORBITMESH_ENGINE_SOURCES ${ORBITMESH_WORKFLOW_LOADER_SOURCES} workflow/notify_worker.cpp)
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
# The original OrbitMesh's step types and JavaScript (issue 16): the sandboxed engine, script,
# http and notification steps (their loader half is in the list above).
list(APPEND ORBITMESH_ENGINE_SOURCES
  workflow/js_engine.cpp
  workflow/js_process.cpp
  workflow/js_program.cpp
  workflow/http_policy.cpp
  workflow/step_pool.cpp
  workflow/notification_channels.cpp
  workflow/run_http.cpp
  workflow/run_script.cpp
  workflow/javascript_review.cpp
)
# Triggers (issue 10): schedule, event and webhook triggers fire runs; their routes.
list(APPEND ORBITMESH_ENGINE_SOURCES
  workflow/trigger_engine.cpp
  workflow/trigger_event_fire.cpp
  workflow/trigger_routes.cpp
  workflow/trigger_webhook.cpp
  workflow/webhook_secret.cpp
)
# Workflow tests and what-if replay (issue 14): the runner over a mocked job_port, case files.
list(APPEND ORBITMESH_ENGINE_SOURCES
  workflow/case_runner.cpp
  workflow/mock_port.cpp
  workflow/workflow_cases.cpp
)
