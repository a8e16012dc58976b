# The agent runtime's tests (compiled into engine_tests).
list(APPEND ORBITMESH_ENGINE_TESTS
  agent_containment_test.cpp
  agent_handlers_test.cpp
  agent_file_watcher_test.cpp
  agent_outbox_test.cpp
  agent_process_test.cpp
  agent_runtime_test.cpp
  agent_session_test.cpp
  agent_support_test.cpp
)
