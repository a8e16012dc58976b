list(APPEND ORBITMESH_ENGINE_TESTS
  dispatcher_test.cpp
  hub_agents_test.cpp
  hub_delivery_test.cpp
  hub_dispatch_test.cpp
  hub_guard_test.cpp
  hub_parts_test.cpp
  secret_store_test.cpp
  pending_reason_test.cpp
)
