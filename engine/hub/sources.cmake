list(APPEND ORBITMESH_ENGINE_SOURCES
  hub/dispatcher.cpp
  hub/histogram.cpp
  hub/http_api.cpp
  hub/http_json.cpp
  hub/hub.cpp
  hub/hub_agents.cpp
  hub/hub_invoke.cpp
  hub/hub_jobs.cpp
  hub/hub_log.cpp
  hub/hub_logs.cpp
  hub/hub_port.cpp
  hub/hub_recovery.cpp
  hub/hub_results.cpp
  hub/mesh_intake.cpp
  hub/metrics.cpp
  hub/timer_deadlines.cpp
)
