list(APPEND ORBITMESH_ENGINE_SOURCES
  agent/placeholder.cpp
)
