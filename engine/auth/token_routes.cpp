#include "engine/auth/token_routes.hpp"

#include "core/error.hpp"
#include "engine/hub/http_api.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine::auth {

namespace {

using transport::http_reply;
using transport::http_request;
using poster = std::function<void(std::function<void()>)>;
using P = const route_params&;
using W = const core::principal&;

void on_strand(const poster& post, const http_request& req, http_reply reply, std::function<void(token_reply)> fn) {
    reply_on_strand(post, req, std::move(reply), [fn = std::move(fn)](const json_reply& answer) { fn(answer); });
}

void refresh(const std::shared_ptr<token_service>& svc, const poster& post, authenticator& authn,
             const http_request& req, http_reply reply) {
    auto body = parse_body(req);
    auto fields = body_fields(body);
    auto token = fields.maybe_text("refresh_token");
    if (!token || token->empty())
        throw core::error(core::error_kind::invalid_input, "refresh body needs \"refresh_token\": the refresh token to rotate");
    auto checked = authn.check_refresh(*token, req.remote);
    if (auto* r = std::get_if<refusal>(&checked)) return reply(refusal_response(*r));
    on_strand(post, req, std::move(reply), [svc, claims = std::get<core::token_claims>(checked)](token_reply r) {
        svc->refresh(claims, std::move(r));
    });
}

}  // namespace

void add_token_routes(route_table& t, std::shared_ptr<token_service> svc, poster post, std::shared_ptr<authenticator> authn) {
    t.add("POST", "/api/v1/tokens", admins, [svc, post](const http_request& req, P, W who, http_reply reply) {
        auto r = mint_request_from_json(parse_body(req));
        r.created_by = who.subject;
        on_strand(post, req, std::move(reply), [svc, r = std::move(r)](token_reply answer) { svc->create(r, std::move(answer)); });
    });
    t.add("GET", "/api/v1/tokens", admins, [svc, post](const http_request& req, P, W, http_reply reply) {
        on_strand(post, req, std::move(reply), [svc](token_reply answer) { svc->list(std::move(answer)); });
    });
    t.add("GET", "/api/v1/tokens/{id}", admins, [svc, post](const http_request& req, P p, W, http_reply reply) {
        on_strand(post, req, std::move(reply), [svc, id = p[0]](token_reply answer) { svc->get(id, std::move(answer)); });
    });
    t.add("POST", "/api/v1/tokens/{id}/revoke", admins, [svc, post](const http_request& req, P p, W who, http_reply reply) {
        auto body = parse_body(req);
        auto reason = body_fields(body).maybe_text("reason").value_or("");
        on_strand(post, req, std::move(reply), [svc, id = p[0], reason, by = who.subject](token_reply answer) {
            svc->revoke(id, reason, by, std::move(answer));
        });
    });
    // Open: the refresh token in the body is the credential, checked (and failures counted) here.
    t.add_open("POST", "/api/v1/tokens/refresh", [svc, post, authn](const http_request& req, P, W, http_reply reply) {
        refresh(svc, post, *authn, req, std::move(reply));
    });
}

}  // namespace orbitmesh::engine::auth
