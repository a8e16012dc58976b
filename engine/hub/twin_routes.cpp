#include "engine/hub/twin_routes.hpp"

#include "engine/hub/http_api.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine {

namespace {

using transport::http_reply;
using transport::http_request;

hub::job_reply as_http(http_reply reply) {
    return [reply = std::move(reply)](hub::outcome<core::json> o) {
        if (o.error) return reply(error_response(*o.error));
        reply(json_response(200, o.value));
    };
}

}  // namespace

void add_twin_routes(route_table& t, std::shared_ptr<hub> h) {
    using P = const route_params&;
    using W = const core::principal&;
    t.add("GET", "/api/v1/agents/{id}/twin", operators,
          [h](const http_request&, P p, W, http_reply reply) { h->get_twin(p[0], as_http(std::move(reply))); });
    t.add("PATCH", "/api/v1/agents/{id}/twin", operators, [h](const http_request& req, P p, W who, http_reply reply) {
        auto body = parse_body(req);
        // `{"desired": {…}}` or the desired keys themselves.
        auto patch = body.is_object() && body.contains("desired") && body.size() == 1 ? body["desired"] : body;
        h->patch_twin(p[0], std::move(patch), who.subject, as_http(std::move(reply)));
    });
}

}  // namespace orbitmesh::engine
