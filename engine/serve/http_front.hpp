#pragma once
#include <functional>
#include <memory>
#include <optional>

#include "core/role.hpp"
#include "engine/auth/authenticator.hpp"
#include "engine/hub/route_table.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// Who may open `/mesh`: agents, and admins (who may do anything). Operators submit work; they
/// cannot pose as an agent.
inline constexpr core::role_set mesh_roles{core::role::agent, core::role::admin};

/// The hub's front door: every HTTP request and every /mesh upgrade passes here first.
/// `gate` sees a request's head before its body is read: route, authenticate (401, or 429 past the
/// failure limit), authorize by the route's roles (403), and only then may the body be read and
/// the handler run. A refused request leaves nothing behind on the hub. Thread-safe.
struct front_door {
    transport::http_gate gate;
    transport::http_handler handler;  // runs the route the gate admitted (re-checks when there was no gate)
    std::function<std::optional<transport::http_response>(transport::http_request&)> mesh_gate;  // mesh_handler::on_upgrade
};

front_door make_front_door(std::shared_ptr<const route_table> routes, std::shared_ptr<auth::authenticator> authn);

}  // namespace orbitmesh::engine
