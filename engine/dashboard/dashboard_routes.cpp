#include "engine/dashboard/dashboard_routes.hpp"

#include "engine/dashboard/dashboard_assets.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;
using transport::http_response;

const dashboard_asset* find_asset(std::string_view name) {
    for (const auto& a : dashboard_assets())
        if (a.name == name) return &a;
    return nullptr;
}

/// Whether the client's `If-None-Match` names this ETag (a list, or `*`).
bool client_has(const http_request& req, std::string_view etag) {
    auto it = req.headers.find("if-none-match");
    if (it == req.headers.end()) return false;
    return it->second == "*" || it->second.find(etag) != std::string::npos;
}

http_response serve(const http_request& req, const dashboard_asset& a) {
    http_response r;
    r.content_type = std::string(a.content_type);
    r.headers = {{"ETag", std::string(a.etag)},
                 {"Cache-Control", "no-cache"},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"}};
    // The page loads only its own files and talks only to this hub; nothing may frame it.
    if (a.name == "index.html") {
        r.headers.emplace_back("Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
        r.headers.emplace_back("X-Frame-Options", "DENY");
    }
    if (client_has(req, a.etag)) {
        r.status = 304;
        return r;
    }
    r.body = std::string(a.body);
    return r;
}

}  // namespace

void add_dashboard_routes(route_table& t) {
    using P = const route_params&;
    using W = const core::principal&;
    t.add_open("GET", "/", [](const http_request& req, P, W, http_reply reply) { reply(serve(req, *find_asset("index.html"))); });
    t.add_open("GET", "/ui/{file}", [](const http_request& req, P p, W, http_reply reply) {
        const auto* a = find_asset(p[0]);
        if (!a) return reply(json_response(404, {{"error", "not_found"}, {"message", "no dashboard file " + p[0]}}));
        reply(serve(req, *a));
    });
}

}  // namespace orbitmesh::engine
