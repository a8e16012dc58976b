#include "engine/workflow/trigger_routes.hpp"

#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;
using P = const route_params&;
using W = const core::principal&;

std::string header(const http_request& req, const std::string& name) {
    auto it = req.headers.find(name);
    return it == req.headers.end() ? std::string{} : it->second;
}

}  // namespace

void add_trigger_routes(route_table& t, std::shared_ptr<trigger_engine> triggers, strand_poster post) {
    t.add("GET", "/api/v1/triggers", operators, [triggers, post](const http_request& req, P, W, http_reply reply) {
        auto it = req.query.find("workflow");
        std::string workflow = it == req.query.end() ? std::string{} : it->second;
        reply_on_strand(post, req, std::move(reply), [triggers, workflow](const json_reply& r) { r(200, triggers->list(workflow)); });
    });
    t.add_signed("POST", "/api/v1/hooks/{workflow}/{trigger}", "webhook-hmac",
                 [triggers, post](const http_request& req, P p, W, http_reply reply) {
                     webhook_delivery d{p[0], p[1], req.body, header(req, "x-orbitmesh-signature"),
                                        header(req, "x-orbitmesh-timestamp")};
                     reply_on_strand(post, req, std::move(reply),
                                     [triggers, d = std::move(d)](const json_reply& r) { triggers->webhook(d, r); });
                 });
}

}  // namespace orbitmesh::engine
