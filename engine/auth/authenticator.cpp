#include "engine/auth/authenticator.hpp"

#include <cctype>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/hub/http_json.hpp"

namespace orbitmesh::engine::auth {

namespace {

bool iequals_prefix(std::string_view text, std::string_view prefix) {
    if (text.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
    return true;
}

refusal unauthorized(std::string message) { return refusal{401, std::move(message), 0}; }

}  // namespace

transport::http_response refusal_response(const refusal& r) {
    auto res = json_response(r.status, {{"error", r.status == 429 ? "rate_limited" : "unauthorized"}, {"message", r.message}});
    if (r.status == 401) res.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"orbitmesh\"");
    if (r.retry_after_s > 0) res.headers.emplace_back("Retry-After", std::to_string(r.retry_after_s));
    return res;
}

presented presented_token(const transport::http_request& req) {
    if (auto it = req.headers.find("authorization"); it != req.headers.end()) {
        std::string_view v = it->second;
        if (!iequals_prefix(v, "bearer ")) return {{}, !v.empty()};
        v.remove_prefix(7);
        while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        return {v, v.empty()};
    }
    if (auto it = req.query.find("access_token"); it != req.query.end()) return {it->second, it->second.empty()};
    return {};
}

authenticator::authenticator(options o, std::shared_ptr<const jwt_key> key, std::shared_ptr<revocation_list> revoked)
    : opts_(o), key_(std::move(key)), revoked_(std::move(revoked)), limiter_(o.limits) {}

std::variant<core::principal, refusal> authenticator::identify(const transport::http_request& req) {
    if (opts_.mode == auth_mode::none) return core::principal{};
    auto [token, malformed] = presented_token(req);
    auto address = failure_limiter::address_of(req.remote);
    if (malformed) {
        limiter_.failed(address, core::steady_ms());
        return unauthorized("the Authorization header must be \"Bearer TOKEN\"");
    }
    if (token.empty())
        return unauthorized("this hub requires a token: pass --token, --token-file or ORBITMESH_TOKEN "
                            "(an admin mints one with `orbitmesh token create`)");
    auto checked = verify(token, address, core::token_kind::access);
    if (auto* r = std::get_if<refusal>(&checked)) return std::move(*r);
    auto& c = std::get<core::token_claims>(checked);
    return core::principal{c.granted, std::move(c.subject), std::move(c.id), std::move(c.family),
                           core::principal::source::token};
}

std::variant<core::token_claims, refusal> authenticator::check_refresh(std::string_view token, const std::string& remote) {
    return verify(token, failure_limiter::address_of(remote), core::token_kind::refresh);
}

std::variant<core::token_claims, refusal> authenticator::verify(std::string_view token, const std::string& address,
                                                                core::token_kind want) {
    const auto now = core::steady_ms();
    if (auto wait_ms = limiter_.blocked_for(address, now); wait_ms > 0) {
        auto secs = (wait_ms + 999) / 1000;
        return refusal{429, "too many failed authentications from " + address + "; try again in " + std::to_string(secs) + "s", secs};
    }
    try {
        auto claims = core::check_claims(key_->verify(token), core::now_ms() / 1000);
        if (claims.kind != want)
            throw core::error(core::error_kind::unauthorized,
                              want == core::token_kind::access ? "a refresh token only buys new tokens (POST /api/v1/tokens/refresh); use its access token"
                                                               : "not a refresh token");
        if (revoked_->is_revoked(claims.id, claims.family))
            throw core::error(core::error_kind::unauthorized, "token " + claims.id + " is revoked");
        return claims;
    } catch (const core::error& e) {
        limiter_.failed(address, now);
        return unauthorized(e.what());
    }
}

}  // namespace orbitmesh::engine::auth
