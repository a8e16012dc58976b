#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "core/principal.hpp"
#include "core/token_claims.hpp"
#include "engine/auth/failure_limiter.hpp"
#include "engine/auth/jwt.hpp"
#include "engine/auth/revocation_list.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine::auth {

/// `serve --auth`: `none` lets everyone act as admin (the loopback default), `token` needs a JWT.
enum class auth_mode { none, token };

/// Why a request or an upgrade is turned away before anything else happens.
struct refusal {
    int status = 401;                // 401: no or a bad credential; 429: too many failures from the address
    std::string message;             // one line, for the `{error, message}` body
    std::int64_t retry_after_s = 0;  // 429 only
};

/// The one place that decides who is at the other end of a request or an agent connection (SPEC
/// §8): the bearer token (`Authorization: Bearer`, else `?access_token=`) verified with the hub's
/// pinned key, its claims, the revocation list, and the per-address failure limit. Whether that
/// principal may use a route is the route table's business. Mutual TLS feeds a certificate
/// subject in here too (issue 8, part B). Thread-safe; does no I/O and allocates nothing for a
/// refused request beyond its message.
class authenticator {
public:
    struct options {
        auth_mode mode = auth_mode::none;
        failure_limiter::options limits;
    };
    authenticator(options o, std::shared_ptr<const jwt_key> key, std::shared_ptr<revocation_list> revoked);

    /// The principal of `req`, or why it is refused. With `--auth none` everyone is the open
    /// principal and presented tokens are not looked at.
    std::variant<core::principal, refusal> identify(const transport::http_request& req);
    /// The claims of a refresh token (POST /api/v1/tokens/refresh), or why it is refused; failures
    /// count against `remote` like any other. Revocation and spending are the token service's.
    std::variant<core::token_claims, refusal> check_refresh(std::string_view token, const std::string& remote);

    auth_mode mode() const noexcept { return opts_.mode; }
    const std::shared_ptr<const jwt_key>& key() const noexcept { return key_; }

private:
    std::variant<core::token_claims, refusal> verify(std::string_view token, const std::string& address,
                                                     core::token_kind want);

    options opts_;
    std::shared_ptr<const jwt_key> key_;
    std::shared_ptr<revocation_list> revoked_;
    failure_limiter limiter_;
};

/// The HTTP answer to a refusal: `{error: unauthorized|rate_limited, message}` with its status,
/// `WWW-Authenticate` on 401, `Retry-After` on 429.
transport::http_response refusal_response(const refusal& r);

/// The credential a request carries: `Authorization: Bearer T` (scheme case-insensitive), else
/// `?access_token=T`. `malformed` for an Authorization header of another scheme or an empty token.
struct presented {
    std::string_view token;
    bool malformed = false;
};
presented presented_token(const transport::http_request& req);

}  // namespace orbitmesh::engine::auth
