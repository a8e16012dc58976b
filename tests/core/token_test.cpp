#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/event.hpp"
#include "core/role.hpp"
#include "core/token_claims.hpp"
#include "core/token_events.hpp"

using namespace orbitmesh;

namespace {

constexpr std::int64_t now = 1'800'000'000;

core::json claims(std::int64_t exp = now + 3600) {
    return {{"iss", "orbitmesh"}, {"aud", "orbitmesh"}, {"sub", "ci"}, {"jti", "0193-jti"}, {"role", "operator"},
            {"typ", "access"}, {"iat", now - 10}, {"nbf", now - 10}, {"exp", exp}};
}

std::string rejection(const core::json& payload) {
    try {
        core::check_claims(payload, now);
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::unauthorized);
        return e.what();
    }
    return "accepted";
}

}  // namespace

TEST_CASE("roles: names round-trip and a role set says who it admits") {
    for (auto r : {core::role::agent, core::role::operator_, core::role::admin})
        CHECK(core::parse_role(core::to_string(r)) == r);
    CHECK_FALSE(core::parse_role("root"));
    core::role_set ops{core::role::operator_, core::role::admin};
    CHECK(ops.contains(core::role::admin));
    CHECK_FALSE(ops.contains(core::role::agent));
    CHECK(ops.text() == "operator, admin");
    CHECK(core::role_set{}.empty());
}

TEST_CASE("token claims: what to_json writes is what check_claims reads") {
    core::token_claims c;
    c.id = "id-1";
    c.subject = "name-1";
    c.granted = core::role::agent;
    c.kind = core::token_kind::refresh;
    c.family = "fam-1";
    c.expires_at = now + 60;
    c.access_ttl_s = 30;
    auto back = core::check_claims(core::to_json(c), now);
    CHECK(back.subject == "name-1");
    CHECK(back.family == "fam-1");
    CHECK(back.access_ttl_s == 30);
    CHECK(back.kind == core::token_kind::refresh);
}

TEST_CASE("token claims: a current token of this hub is accepted with its fields") {
    auto c = core::check_claims(claims(), now);
    CHECK(c.id == "0193-jti");
    CHECK(c.subject == "ci");
    CHECK(c.granted == core::role::operator_);
    CHECK(c.kind == core::token_kind::access);
}

TEST_CASE("token claims: expiry and not-before are checked with at most the leeway") {
    CHECK(rejection(claims(now - core::token_leeway_s - 1)).find("token expired at") == 0);
    CHECK(rejection(claims(now - core::token_leeway_s + 1)) == "accepted");  // clock skew within the leeway
    auto early = claims();
    early["nbf"] = now + core::token_leeway_s + 60;
    CHECK(rejection(early).find("not valid before") != std::string::npos);
    auto future = claims();
    future["iat"] = now + 3600;
    CHECK(rejection(future).find("issued in the future") != std::string::npos);
    auto no_exp = claims();
    no_exp.erase("exp");
    CHECK(rejection(no_exp).find("\"exp\"") != std::string::npos);
}

TEST_CASE("token claims: issuer, audience, role and kind must be this hub's") {
    auto aud = claims();
    aud["aud"] = "someone-else";
    CHECK(rejection(aud).find("another audience") != std::string::npos);
    aud["aud"] = core::json::array({"x", "orbitmesh"});
    CHECK(rejection(aud) == "accepted");
    auto iss = claims();
    iss["iss"] = "evil";
    CHECK(rejection(iss).find("not issued by an OrbitMesh hub") != std::string::npos);
    auto role = claims();
    role["role"] = "root";
    CHECK(rejection(role).find("unknown role") != std::string::npos);
    auto refresh = claims();
    refresh["typ"] = "refresh";
    CHECK(rejection(refresh).find("no family") != std::string::npos);
    auto wrong_type = claims();
    wrong_type["exp"] = "tomorrow";
    CHECK(rejection(wrong_type).find("token field \"exp\" must be an integer") != std::string::npos);
}

TEST_CASE("token events: created, revoked and spent fold; a second spend is refused") {
    core::token_record t;
    auto created = core::make_event(core::token_stream("t1"), 0, core::token_event::created,
                                    {{"id", "t1"}, {"name", "ci"}, {"role", "admin"}, {"kind", "refresh"},
                                     {"family", "f1"}, {"expires_ms", 5000}, {"access_ttl_ms", 1000}});
    core::apply(t, created);
    CHECK(t.granted == core::role::admin);
    CHECK(t.kind == core::token_kind::refresh);
    CHECK(core::token_state(t, 100, false) == "active");
    CHECK(core::token_state(t, 6000, false) == "expired");
    CHECK(core::token_state(t, 100, true) == "revoked");
    auto spent = core::make_token_event(t, core::token_event::spent, {{"successor", "t2"}});
    core::apply(t, spent);
    CHECK(core::token_state(t, 100, false) == "spent");
    auto again = core::make_token_event(t, core::token_event::spent, {{"successor", "t3"}});
    CHECK_THROWS_AS(core::apply(t, again), core::error);
    CHECK(t.successor == "t2");
    auto revoked = core::make_token_event(t, core::token_event::revoked, {{"reason", "reuse"}, {"family", true}});
    core::apply(t, revoked);
    CHECK(t.revoked_family);
    CHECK(core::to_json(t, 100, false).at("state") == "revoked");
    CHECK_FALSE(core::to_json(t, 100, false).contains("token"));
}

TEST_CASE("token events: nothing but token.created may start a stream") {
    core::token_record t;
    auto revoked = core::make_event(core::token_stream("t1"), 0, core::token_event::revoked, {{"reason", "x"}});
    CHECK_THROWS_AS(core::apply(t, revoked), core::error);
    CHECK(t.version == 0);
}
