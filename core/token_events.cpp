#include "core/token_events.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"

namespace orbitmesh::core {

namespace {

[[noreturn]] void illegal(const token_record& t, const event& e, const std::string& why) {
    throw error(error_kind::conflict, "token " + (t.id.empty() ? e.stream : t.id) + ": event " + e.type +
                                          " is not allowed (" + why + ")");
}

void apply_created(token_record& t, const event& e) {
    if (t.version != 0) illegal(t, e, "the token already exists");
    field_reader r(e.data, "token.created", error_kind::conflict);
    token_record n;
    n.id = r.text("id");
    n.name = r.text("name");
    auto granted = parse_role(r.text("role"));
    if (!granted) r.fail("role", "must be agent, operator or admin");
    n.granted = *granted;
    n.kind = r.maybe_text("kind").value_or("access") == "refresh" ? token_kind::refresh : token_kind::access;
    n.family = r.maybe_text("family").value_or("");
    n.created_by = r.maybe_text("created_by").value_or("");
    n.expires_ms = r.integer("expires_ms", 0, std::numeric_limits<std::int64_t>::max());
    n.access_ttl_ms = r.maybe_integer("access_ttl_ms", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
    n.created_ms = e.time_ms;
    t = std::move(n);
}

}  // namespace

std::string token_stream(std::string_view token_id) { return "token-" + std::string(token_id); }

void apply(token_record& t, const event& e) {
    if (e.type == token_event::created) {
        apply_created(t, e);
    } else if (t.version == 0) {
        illegal(t, e, "no token.created before it");
    } else if (e.type == token_event::revoked) {
        field_reader r(e.data, "token.revoked", error_kind::conflict);
        auto reason = r.maybe_text("reason").value_or("");
        bool family = r.maybe_boolean("family").value_or(false);
        if (t.revoked_ms == 0) t.revoked_ms = e.time_ms;
        if (t.revoke_reason.empty()) t.revoke_reason = std::move(reason);
        t.revoked_family = t.revoked_family || family;
    } else if (e.type == token_event::spent) {
        if (t.kind != token_kind::refresh) illegal(t, e, "only a refresh token is spent");
        if (t.spent_ms != 0) illegal(t, e, "already spent");
        field_reader r(e.data, "token.spent", error_kind::conflict);
        t.successor = r.maybe_text("successor").value_or("");
        t.spent_ms = e.time_ms;
    } else {
        illegal(t, e, "unknown event type");
    }
    t.version = e.version;
}

event make_token_event(const token_record& t, std::string_view type, json data) {
    return make_event(token_stream(t.id), t.version, type, std::move(data));
}

std::string_view token_state(const token_record& t, std::int64_t now_ms, bool family_revoked) noexcept {
    if (t.revoked_ms != 0 || family_revoked) return "revoked";
    if (t.spent_ms != 0) return "spent";
    if (now_ms > t.expires_ms) return "expired";
    return "active";
}

json to_json(const token_record& t, std::int64_t now_ms, bool family_revoked) {
    json j{{"id", t.id},
           {"name", t.name},
           {"role", to_string(t.granted)},
           {"kind", to_string(t.kind)},
           {"family", t.family.empty() ? json() : json(t.family)},
           {"state", token_state(t, now_ms, family_revoked)},
           {"created_by", t.created_by},
           {"created_at", format_time(t.created_ms)},
           {"expires_at", format_time(t.expires_ms)}};
    if (t.revoked_ms != 0) j["revoked_at"] = format_time(t.revoked_ms);
    if (!t.revoke_reason.empty()) j["revoke_reason"] = t.revoke_reason;
    if (t.spent_ms != 0) j["spent_at"] = format_time(t.spent_ms);
    return j;
}

}  // namespace orbitmesh::core
