#pragma once
#include <memory>

#include "engine/events/event_feed.hpp"
#include "engine/hub/route_table.hpp"

namespace orbitmesh::engine {

/// `GET /api/v1/events`: the event log as server-sent events (docs/http-api.md), for operators.
void add_event_stream_route(route_table& table, std::shared_ptr<event_feed> feed);

}  // namespace orbitmesh::engine
