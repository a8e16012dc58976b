#include "core/token_claims.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"

namespace orbitmesh::core {

namespace {

constexpr std::int64_t max_time_s = 253402300799;  // 9999-12-31: past it a time is nonsense
constexpr std::size_t max_text = 128;

[[noreturn]] void reject(const std::string& why) { throw error(error_kind::unauthorized, why); }

std::string time_text(std::int64_t s) { return format_time(s * 1000); }

bool audience_matches(const json* aud) {
    if (!aud) return false;
    if (aud->is_string()) return aud->get<std::string>() == token_audience;
    if (!aud->is_array()) return false;
    for (const auto& a : *aud)
        if (a.is_string() && a.get<std::string>() == token_audience) return true;
    return false;
}

std::string bounded_text(field_reader& r, std::string_view key) {
    auto v = r.text(key);
    if (v.empty() || v.size() > max_text) r.fail(key, "must be 1 to " + std::to_string(max_text) + " characters");
    return v;
}

void check_times(const token_claims& c, std::int64_t now_s) {
    if (now_s > c.expires_at + token_leeway_s) reject("token expired at " + time_text(c.expires_at));
    if (c.not_before != 0 && now_s + token_leeway_s < c.not_before)
        reject("token is not valid before " + time_text(c.not_before));
    if (c.issued_at != 0 && now_s + token_leeway_s < c.issued_at)
        reject("token claims to be issued in the future (" + time_text(c.issued_at) + "); check the clocks");
}

}  // namespace

std::string_view to_string(token_kind k) noexcept { return k == token_kind::refresh ? "refresh" : "access"; }

json to_json(const token_claims& c) {
    json j{{"iss", token_issuer}, {"aud", token_audience}, {"sub", c.subject}, {"jti", c.id},
           {"role", to_string(c.granted)}, {"typ", to_string(c.kind)}, {"iat", c.issued_at},
           {"exp", c.expires_at}};
    if (c.not_before != 0) j["nbf"] = c.not_before;
    if (!c.family.empty()) j["fam"] = c.family;
    if (c.kind == token_kind::refresh) j["att"] = c.access_ttl_s;
    return j;
}

token_claims check_claims(const json& payload, std::int64_t now_s) {
    field_reader r(payload, "token", error_kind::unauthorized);
    if (r.maybe_text("iss").value_or("") != token_issuer)
        reject("token was not issued by an OrbitMesh hub (iss must be \"" + std::string(token_issuer) + "\")");
    if (!audience_matches(r.get("aud")))
        reject("token is meant for another audience (aud must be \"" + std::string(token_audience) + "\")");
    token_claims c;
    c.expires_at = r.integer("exp", 0, max_time_s);
    c.not_before = r.maybe_integer("nbf", 0, max_time_s).value_or(0);
    c.issued_at = r.maybe_integer("iat", 0, max_time_s).value_or(0);
    check_times(c, now_s);
    c.id = bounded_text(r, "jti");
    c.subject = bounded_text(r, "sub");
    auto role_text = r.text("role");
    auto granted = parse_role(role_text);
    if (!granted) reject("token has the unknown role \"" + role_text.substr(0, max_text) + "\"");
    c.granted = *granted;
    auto kind = r.maybe_text("typ").value_or("access");
    if (kind != "access" && kind != "refresh") reject("token has the unknown type \"" + kind.substr(0, max_text) + "\"");
    c.kind = kind == "refresh" ? token_kind::refresh : token_kind::access;
    c.family = r.maybe_text("fam").value_or("");
    if (c.family.size() > max_text) r.fail("fam", "must be at most " + std::to_string(max_text) + " characters");
    if (c.kind == token_kind::refresh) {
        if (c.family.empty()) reject("refresh token has no family (fam)");
        c.access_ttl_s = r.integer("att", 1, max_time_s);
    }
    return c;
}

}  // namespace orbitmesh::core
