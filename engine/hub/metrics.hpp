#pragma once
#include <string>

#include "core/json.hpp"

namespace orbitmesh::engine {

/// The hub's counters (the JSON of GET /api/v1/stats) in the Prometheus text exposition format,
/// for GET /metrics (SPEC §9).
std::string prometheus_text(const core::json& stats);

}  // namespace orbitmesh::engine
