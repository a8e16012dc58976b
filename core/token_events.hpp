#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/token_claims.hpp"

namespace orbitmesh::core {

/// Event types of a token stream ("token-<jti>"). The token text itself is never stored: only
/// what identifies it and what happened to it.
namespace token_event {
inline constexpr std::string_view created = "token.created";  // {id, name, role, kind, family, expires_ms, access_ttl_ms, created_by}
inline constexpr std::string_view revoked = "token.revoked";  // {reason, by, family}: family=true revokes every token of its family
inline constexpr std::string_view spent = "token.spent";      // {successor}: a refresh token was rotated
}  // namespace token_event

/// What the hub knows of one token it (or `token create --data-dir`) issued.
struct token_record {
    std::string id;
    std::string name;
    role granted = role::operator_;
    token_kind kind = token_kind::access;
    std::string family;
    std::string created_by;
    std::int64_t created_ms = 0;
    std::int64_t expires_ms = 0;
    std::int64_t access_ttl_ms = 0;  // refresh tokens
    std::int64_t revoked_ms = 0;     // 0 = not revoked (itself; its family may be)
    std::string revoke_reason;
    bool revoked_family = false;  // this token's revocation took its whole family with it
    std::int64_t spent_ms = 0;    // refresh tokens: rotated at this time
    std::string successor;        // the refresh token it was rotated into
    std::int64_t version = 0;     // events in its stream
};

std::string token_stream(std::string_view token_id);

/// Folds one event into a token record. Throws core::error{conflict} for an event its state
/// forbids (created twice, spent twice, anything before created), leaving the record untouched.
void apply(token_record& t, const event& e);

/// The next event of the token's stream (version = t.version + 1, time = now).
event make_token_event(const token_record& t, std::string_view type, json data);

/// "active", "expired", "spent" or "revoked" at `now_ms`; `family_revoked` from the family's fate.
std::string_view token_state(const token_record& t, std::int64_t now_ms, bool family_revoked) noexcept;

/// The record as the API shows it (never the token text): id, name, role, kind, family, state, times.
json to_json(const token_record& t, std::int64_t now_ms, bool family_revoked);

}  // namespace orbitmesh::core
