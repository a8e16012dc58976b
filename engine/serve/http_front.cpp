#include "engine/serve/http_front.hpp"

#include "core/error.hpp"
#include "engine/hub/http_json.hpp"
#include "engine/hub/hub_log.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;
using transport::http_response;

/// What the gate decided, carried in http_request::context to the handler.
struct admitted {
    core::principal who;
    const route* to = nullptr;
    route_params params;
};

http_response error_json(int status, std::string_view kind, const std::string& message) {
    return json_response(status, {{"error", kind}, {"message", message}});
}

std::optional<http_response> decide(const route_table& routes, auth::authenticator& authn, http_request& head) {
    auto m = routes.match(head.method, head.path);
    if (m.found && m.found->open) {
        // Nobody was asked who they are: an open route's handler gets the least a principal can be.
        core::principal nobody{core::role::agent, "anonymous", {}, {}, core::principal::source::open};
        head.context = admitted{std::move(nobody), m.found, std::move(m.params)};
        return std::nullopt;
    }
    // Authenticate before saying whether the route exists: without a token every path looks alike.
    auto identity = authn.identify(head);
    if (auto* r = std::get_if<auth::refusal>(&identity)) return auth::refusal_response(*r);
    auto& who = std::get<core::principal>(identity);
    if (!m.found) return error_json(404, "not_found", "no route " + head.method + " " + head.path + " (see docs/http-api.md)");
    if (!m.found->allowed.contains(who.granted))
        return error_json(403, "forbidden", "a token with role " + std::string(core::to_string(who.granted)) + " may not " +
                                                 head.method + " " + m.found->pattern + " (it needs " +
                                                 m.found->allowed.text() + ")");
    head.context = admitted{std::move(who), m.found, std::move(m.params)};
    return std::nullopt;
}

std::optional<http_response> decide_upgrade(auth::authenticator& authn, http_request& req) {
    auto identity = authn.identify(req);
    if (auto* r = std::get_if<auth::refusal>(&identity)) {
        hub_log("agent connection " + req.remote + ": refused (" + std::to_string(r->status) + "): " + r->message);
        return auth::refusal_response(*r);
    }
    auto& who = std::get<core::principal>(identity);
    if (!mesh_roles.contains(who.granted)) {
        auto msg = "a token with role " + std::string(core::to_string(who.granted)) +
                   " cannot register as an agent on /mesh (it needs " + mesh_roles.text() + ")";
        hub_log("agent connection " + req.remote + ": refused (403): " + msg);
        return error_json(403, "forbidden", msg);
    }
    req.context = std::move(who);
    return std::nullopt;
}

}  // namespace

front_door make_front_door(std::shared_ptr<const route_table> routes, std::shared_ptr<auth::authenticator> authn) {
    front_door f;
    f.gate = [routes, authn](http_request& head) { return decide(*routes, *authn, head); };
    f.handler = [routes, authn](http_request req, http_reply reply) {
        try {
            if (!std::any_cast<admitted>(&req.context))
                if (auto refusal = decide(*routes, *authn, req)) return reply(std::move(*refusal));
            const auto& a = std::any_cast<const admitted&>(req.context);
            a.to->handler(req, a.params, a.who, reply);
        } catch (const core::error& e) {
            reply(error_response(e));
        } catch (const std::exception& e) {
            reply(internal_error_response(req.method + " " + req.path, e));
        }
    };
    f.mesh_gate = [authn](http_request& req) { return decide_upgrade(*authn, req); };
    return f;
}

}  // namespace orbitmesh::engine
