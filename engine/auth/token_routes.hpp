#pragma once
#include <functional>
#include <memory>

#include "engine/auth/authenticator.hpp"
#include "engine/auth/token_service.hpp"
#include "engine/hub/route_table.hpp"

namespace orbitmesh::engine::auth {

/// Adds `/api/v1/tokens` (create, list, get, revoke: admins only) and the open
/// `POST /api/v1/tokens/refresh`, whose credential is the refresh token in its body. Handlers read
/// bodies on the calling thread and run the service on the hub strand through `post`.
void add_token_routes(route_table& table, std::shared_ptr<token_service> tokens,
                      std::function<void(std::function<void()>)> post, std::shared_ptr<authenticator> authn);

}  // namespace orbitmesh::engine::auth
