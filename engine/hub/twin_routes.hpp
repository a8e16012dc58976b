#pragma once
#include <memory>

#include "engine/hub/hub.hpp"
#include "engine/hub/route_table.hpp"

namespace orbitmesh::engine {

/// `GET /api/v1/agents/{id}/twin` and `PATCH /api/v1/agents/{id}/twin` (operators, SPEC §7): read
/// both halves of an agent's twin; merge a JSON patch into its desired half.
void add_twin_routes(route_table& table, std::shared_ptr<hub> h);

}  // namespace orbitmesh::engine
