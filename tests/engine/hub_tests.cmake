list(APPEND ORBITMESH_ENGINE_TESTS
  dispatcher_test.cpp
  secret_store_test.cpp
)
