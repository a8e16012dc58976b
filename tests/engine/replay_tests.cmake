list(APPEND ORBITMESH_ENGINE_TESTS
  replay_fold_test.cpp
  replay_store_test.cpp
)
