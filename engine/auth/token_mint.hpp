#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/event.hpp"
#include "core/json.hpp"
#include "core/role.hpp"
#include "core/token_events.hpp"
#include "engine/auth/jwt.hpp"

namespace orbitmesh::engine::auth {

/// What `token create` (CLI, offline or POST /api/v1/tokens) and a refresh ask for.
struct mint_request {
    core::role granted = core::role::operator_;
    std::string name;
    std::int64_t ttl_ms = 30LL * 24 * 3600 * 1000;
    bool refresh = false;  // also issue a refresh token (the pair shares a new family)
    std::int64_t refresh_ttl_ms = 90LL * 24 * 3600 * 1000;
    std::string created_by;  // the principal's subject, for `token list`
    std::string family;      // rotation: continue this family instead of starting one
};

/// Reads `{role, name, ttl, refresh, refresh_ttl}` (durations as text, "30d"). Throws
/// core::error{invalid_input} naming the field: an unknown role, a name that is empty, too long or
/// not printable, a ttl outside 1 s .. 10 years.
mint_request mint_request_from_json(const core::json& body);
/// The same checks for a request built by the CLI; throws core::error{usage}.
void check_mint_request(const mint_request& r);

struct minted_token {
    core::token_record record;  // as its token.created event folds
    std::string text;           // the JWT: shown once, never stored
};

/// One access token and, when asked, its refresh token, with the events that record them.
struct minted {
    minted_token access;
    std::optional<minted_token> refresh;
    std::vector<core::event> events;  // token.created for each
    /// `{…access record, token, refresh_token?, refresh?}`: what create and refresh answer.
    core::json reply(std::int64_t now_ms) const;
};

/// Signs the tokens of `r` with `key` now. Throws core::error{usage} for a verify-only key.
minted mint_tokens(const jwt_key& key, const mint_request& r);

}  // namespace orbitmesh::engine::auth
