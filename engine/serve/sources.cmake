# `orbitmesh serve`'s composition root: the one place that wires the hub, the workflow runner and
# the listener together, so engine/hub and engine/workflow never include each other.
list(APPEND ORBITMESH_ENGINE_SOURCES
  serve/http_front.cpp
  serve/hub_server.cpp
  serve/openapi.cpp
)
