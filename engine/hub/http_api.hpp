#pragma once
#include <atomic>
#include <memory>
#include <string>

#include "engine/hub/hub.hpp"
#include "engine/hub/route_table.hpp"

namespace orbitmesh::engine {

/// Who may do what over HTTP (SPEC §8): reading and driving work is for operators, tokens for
/// admins (admin may do everything); agents talk only on /mesh.
inline constexpr core::role_set operators{core::role::operator_, core::role::admin};
inline constexpr core::role_set admins{core::role::admin};

/// What `orbitmesh_build_info` reports on /metrics, and where the hub is in its life for
/// `GET /readyz` (0 starting, 1 ready, 2 stopping; set by whoever runs the hub).
struct build_info {
    std::string version, commit;
    std::shared_ptr<const std::atomic<int>> phase;
};

/// Adds the hub's own routes of docs/http-api.md to `table`: health, metrics, stats, jobs, agents.
/// Handlers are thread-safe; replies may come later.
void add_hub_routes(route_table& table, std::shared_ptr<hub> h, build_info build);

}  // namespace orbitmesh::engine
