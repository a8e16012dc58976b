list(APPEND ORBITMESH_ENGINE_SOURCES
  events/event_feed.cpp
  events/event_filter.cpp
  events/event_routes.cpp
  events/otlp_exporter.cpp
)
