#include "engine/auth/token_mint.hpp"

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "core/ids.hpp"

namespace orbitmesh::engine::auth {

namespace {

constexpr std::int64_t max_ttl_ms = 10LL * 366 * 24 * 3600 * 1000;
constexpr std::size_t max_name = 128;

/// Empty when `r` is acceptable, else what is wrong with it (field first).
std::string problem_of(const mint_request& r) {
    if (r.name.empty() || r.name.size() > max_name) return "name must be 1 to 128 characters";
    for (unsigned char c : r.name)
        if (c < 0x20 || c == 0x7f) return "name must not contain control characters";
    if (r.ttl_ms < 1000 || r.ttl_ms > max_ttl_ms) return "ttl must be between 1s and 10 years";
    if (r.refresh && (r.refresh_ttl_ms < 1000 || r.refresh_ttl_ms > max_ttl_ms))
        return "refresh_ttl must be between 1s and 10 years";
    return {};
}

std::int64_t duration_field(core::field_reader& f, std::string_view key, std::int64_t fallback) {
    auto text = f.maybe_text(key);
    if (!text) return fallback;
    return core::parse_duration_or_throw(*text, "request body field \"" + std::string(key) + "\"");
}

minted_token make_token(const jwt_key& key, const mint_request& r, core::token_kind kind, const std::string& family,
                        std::int64_t now_ms, core::event& created) {
    core::token_claims c;
    c.id = core::new_id();
    c.subject = r.name;
    c.granted = r.granted;
    c.kind = kind;
    c.family = family;
    c.issued_at = now_ms / 1000;
    c.not_before = c.issued_at;
    std::int64_t ttl = kind == core::token_kind::refresh ? r.refresh_ttl_ms : r.ttl_ms;
    c.expires_at = (now_ms + ttl) / 1000;
    c.access_ttl_s = kind == core::token_kind::refresh ? r.ttl_ms / 1000 : 0;
    minted_token t;
    t.text = key.sign(core::to_json(c));
    core::json data{{"id", c.id}, {"name", c.subject}, {"role", core::to_string(c.granted)},
                    {"kind", core::to_string(kind)}, {"family", family}, {"expires_ms", c.expires_at * 1000},
                    {"access_ttl_ms", c.access_ttl_s * 1000}, {"created_by", r.created_by}};
    created = core::make_event(core::token_stream(c.id), 0, core::token_event::created, std::move(data));
    created.time_ms = now_ms;
    core::apply(t.record, created);
    return t;
}

}  // namespace

mint_request mint_request_from_json(const core::json& body) {
    core::field_reader f(body, "request body", core::error_kind::invalid_input);
    mint_request r;
    auto role_text = f.maybe_text("role");
    if (!role_text) f.fail("role", "is required: agent, operator or admin");
    auto granted = core::parse_role(*role_text);
    if (!granted) f.fail("role", "must be agent, operator or admin, got \"" + role_text->substr(0, 32) + "\"");
    r.granted = *granted;
    r.name = f.maybe_text("name").value_or(std::string(core::to_string(r.granted)));
    r.ttl_ms = duration_field(f, "ttl", r.ttl_ms);
    r.refresh = f.maybe_boolean("refresh").value_or(false);
    r.refresh_ttl_ms = duration_field(f, "refresh_ttl", r.refresh_ttl_ms);
    if (auto p = problem_of(r); !p.empty()) throw core::error(core::error_kind::invalid_input, "request body field " + p);
    return r;
}

void check_mint_request(const mint_request& r) {
    if (auto p = problem_of(r); !p.empty()) throw core::error(core::error_kind::usage, "token " + p);
}

core::json minted::reply(std::int64_t now_ms) const {
    auto j = core::to_json(access.record, now_ms, false);
    j["token"] = access.text;
    if (refresh) {
        j["refresh_token"] = refresh->text;
        j["refresh"] = core::to_json(refresh->record, now_ms, false);
    }
    return j;
}

minted mint_tokens(const jwt_key& key, const mint_request& r) {
    const auto now = core::now_ms();
    std::string family = r.family;
    if (r.refresh && family.empty()) family = core::new_id();
    minted m;
    m.events.resize(r.refresh ? 2 : 1);
    m.access = make_token(key, r, core::token_kind::access, family, now, m.events[0]);
    if (r.refresh) m.refresh = make_token(key, r, core::token_kind::refresh, family, now, m.events[1]);
    return m;
}

}  // namespace orbitmesh::engine::auth
