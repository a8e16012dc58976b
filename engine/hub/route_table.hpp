#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"
#include "core/principal.hpp"
#include "core/role.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// The values of a route's `{name}` segments, in order.
using route_params = std::vector<std::string>;
/// Handles one request the route matched; may throw core::error (it becomes the JSON error).
using route_handler = std::function<void(const transport::http_request& req, const route_params& params,
                                         const core::principal& who, transport::http_reply reply)>;

/// One HTTP route: method, path pattern (`/api/v1/jobs/{id}/logs`) and who may call it. A route
/// cannot be added without saying who may call it; `open` routes (health checks, the refresh
/// endpoint, which checks its own credential) need none, and their handlers are given an
/// anonymous principal with the least role (agent), never one to act on.
struct route {
    std::string method;
    std::string pattern;
    core::role_set allowed;
    bool open = false;
    route_handler handler;
    std::string credential;  // open routes that check their own credential say which ("webhook-hmac")
};

/// Every HTTP route of the hub with its access rule: what the front (engine/serve/http_front)
/// authenticates and authorizes against before a handler runs. Built once at start; read-only
/// (and so thread-safe) afterwards.
class route_table {
public:
    /// Adds a route callable by `allowed` (never empty). Throws core::error{internal} for a
    /// duplicate method + pattern or an empty role set.
    void add(std::string method, std::string pattern, core::role_set allowed, route_handler handler);
    /// Adds a route that needs no token.
    void add_open(std::string method, std::string pattern, route_handler handler);
    /// Adds a route that needs no token because its handler checks another credential, named in
    /// the table (`credential`, e.g. "webhook-hmac"): webhooks are authenticated by their signature.
    void add_signed(std::string method, std::string pattern, std::string credential, route_handler handler);

    struct match_result {
        const route* found = nullptr;
        route_params params;
    };
    /// The route for `method` and `path`; where patterns overlap a literal segment beats a `{name}`.
    match_result match(std::string_view method, std::string_view path) const;

    const std::vector<route>& routes() const noexcept { return routes_; }
    /// `{"routes": [{"method", "path", "roles": [...], "open", "credential"?}]}` for GET /api/v1/routes.
    core::json describe() const;

private:
    void insert(route r);
    std::vector<route> routes_;
    std::vector<std::vector<std::string>> patterns_;  // routes_[i].pattern split into segments
};

}  // namespace orbitmesh::engine
