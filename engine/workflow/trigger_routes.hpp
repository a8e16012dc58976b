#pragma once
#include <memory>

#include "engine/hub/http_api.hpp"
#include "engine/hub/route_table.hpp"
#include "engine/workflow/runner.hpp"
#include "engine/workflow/trigger_engine.hpp"

namespace orbitmesh::engine {

/// Adds `GET /api/v1/triggers` (operators) and `POST /api/v1/hooks/{workflow}/{trigger}` (no
/// token: signed, credential "webhook-hmac") over a trigger engine on the hub strand.
void add_trigger_routes(route_table& table, std::shared_ptr<trigger_engine> triggers, strand_poster post);

}  // namespace orbitmesh::engine
