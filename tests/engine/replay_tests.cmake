list(APPEND ORBITMESH_ENGINE_TESTS
  replay_chain_test.cpp
  replay_fold_test.cpp
  replay_store_test.cpp
)
