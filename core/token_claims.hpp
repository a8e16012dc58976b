#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/json.hpp"
#include "core/role.hpp"

namespace orbitmesh::core {

/// An access token is presented on requests and on /mesh; a refresh token only buys a new pair
/// (POST /api/v1/tokens/refresh) and is spent doing so.
enum class token_kind { access, refresh };

std::string_view to_string(token_kind k) noexcept;

/// The claims of an OrbitMesh JWT (SPEC §8). Times are seconds since the Unix epoch, as JWT has it.
struct token_claims {
    std::string id;       // jti: what revocation names
    std::string subject;  // sub: the token's name (`token create --name`)
    role granted = role::operator_;
    token_kind kind = token_kind::access;
    std::string family;  // fam: shared by a refresh token and every token rotated from it; "" for none
    std::int64_t issued_at = 0;
    std::int64_t not_before = 0;
    std::int64_t expires_at = 0;
    std::int64_t access_ttl_s = 0;  // att, refresh tokens only: the lifetime of the access tokens it mints
};

/// The `iss` and `aud` every token of this hub carries and every token presented must carry.
inline constexpr std::string_view token_issuer = "orbitmesh";
inline constexpr std::string_view token_audience = "orbitmesh";
/// Clock skew tolerated on `exp`, `nbf` and `iat` (SPEC: at most 60 s).
inline constexpr std::int64_t token_leeway_s = 30;

/// The payload to sign: the claims plus iss and aud.
json to_json(const token_claims& c);

/// Reads the payload of a token whose signature already verified and checks it against `now_s`:
/// issuer, audience, expiry and not-before (with token_leeway_s), a known role and kind.
/// Throws core::error{unauthorized} saying which check failed ("token expired at …").
token_claims check_claims(const json& payload, std::int64_t now_s);

}  // namespace orbitmesh::core
