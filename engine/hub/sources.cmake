list(APPEND ORBITMESH_ENGINE_SOURCES
  hub/placeholder.cpp
)
