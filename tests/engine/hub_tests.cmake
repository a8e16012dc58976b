list(APPEND ORBITMESH_ENGINE_TESTS
  dispatcher_test.cpp
)
