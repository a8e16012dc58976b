#include <catch2/catch.hpp>

#include <sys/stat.h>

#include <fstream>

#include "../store/temp_dir.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/auth/auth_mode.hpp"
#include "engine/auth/authenticator.hpp"
#include "engine/auth/key_files.hpp"
#include "engine/auth/token_mint.hpp"
#include "engine/hub/route_table.hpp"

using namespace orbitmesh;
using namespace orbitmesh::engine::auth;

namespace {

transport::http_request request_with(const std::string& token, const std::string& remote = "10.1.2.3:4000") {
    transport::http_request r;
    r.method = "GET";
    r.path = "/api/v1/jobs";
    r.remote = remote;
    if (!token.empty()) r.headers["authorization"] = "Bearer " + token;
    return r;
}

struct fixture {
    std::shared_ptr<const jwt_key> key = std::make_shared<const jwt_key>(jwt_key::hs256(std::string(32, 'k')));
    std::shared_ptr<revocation_list> revoked = std::make_shared<revocation_list>();

    authenticator make(auth_mode mode, int max_failures = 30) {
        authenticator::options o;
        o.mode = mode;
        o.limits.max_failures = max_failures;
        return authenticator(o, key, revoked);
    }
    minted mint(core::role r, bool refresh = false) {
        mint_request m;
        m.granted = r;
        m.name = "test";
        m.refresh = refresh;
        return mint_tokens(*key, m);
    }
};

int status_of(const std::variant<core::principal, refusal>& v) {
    return std::holds_alternative<refusal>(v) ? std::get<refusal>(v).status : 200;
}

}  // namespace

TEST_CASE("auth mode: none is the loopback default; none elsewhere is refused unless --insecure-no-auth") {
    CHECK_FALSE(tokens_required("127.0.0.1", "", false));
    CHECK_FALSE(tokens_required("::1", "", false));
    CHECK_FALSE(tokens_required("localhost", "", false));
    CHECK(tokens_required("0.0.0.0", "", false));
    CHECK(tokens_required("192.0.2.7", "", false));
    CHECK(tokens_required("127.0.0.1", "token", false));
    CHECK_THROWS_WITH(tokens_required("0.0.0.0", "none", false), Catch::Contains("refusing --auth none on 0.0.0.0"));
    CHECK_FALSE(tokens_required("0.0.0.0", "none", true));
    CHECK_THROWS_WITH(tokens_required("127.0.0.1", "maybe", false), Catch::Contains("--auth must be none or token"));
    CHECK(is_loopback("127.9.9.9"));
    CHECK(is_loopback("::ffff:127.0.0.1"));
    CHECK_FALSE(is_loopback("::"));
    CHECK_FALSE(is_loopback("example.com"));
}

TEST_CASE("authenticator: with auth none everyone is the open admin principal") {
    fixture f;
    auto a = f.make(auth_mode::none);
    auto who = std::get<core::principal>(a.identify(request_with("")));
    CHECK(who.granted == core::role::admin);
    CHECK(who.via == core::principal::source::open);
}

TEST_CASE("authenticator: a token is read from the header or the query, and checked") {
    fixture f;
    auto a = f.make(auth_mode::token);
    auto m = f.mint(core::role::operator_);
    auto who = std::get<core::principal>(a.identify(request_with(m.access.text)));
    CHECK(who.granted == core::role::operator_);
    CHECK(who.token_id == m.access.record.id);
    auto q = request_with("");
    q.query["access_token"] = m.access.text;
    CHECK(status_of(a.identify(q)) == 200);
    CHECK(std::get<refusal>(a.identify(request_with(""))).message.find("requires a token") != std::string::npos);
    auto basic = request_with("");
    basic.headers["authorization"] = "Basic dXNlcjpwYXNz";
    CHECK(std::get<refusal>(a.identify(basic)).message.find("Bearer TOKEN") != std::string::npos);
    f.revoked->revoke(m.access.record.id);
    CHECK(std::get<refusal>(a.identify(request_with(m.access.text))).message.find("revoked") != std::string::npos);
}

TEST_CASE("authenticator: a refresh token is no access token, and a family revocation covers its access tokens") {
    fixture f;
    auto a = f.make(auth_mode::token);
    auto m = f.mint(core::role::admin, true);
    CHECK(std::get<refusal>(a.identify(request_with(m.refresh->text))).message.find("only buys new tokens") != std::string::npos);
    CHECK(std::holds_alternative<core::token_claims>(a.check_refresh(m.refresh->text, "10.0.0.1:1")));
    CHECK(std::holds_alternative<refusal>(a.check_refresh(m.access.text, "10.0.0.1:1")));
    CHECK(status_of(a.identify(request_with(m.access.text))) == 200);
    f.revoked->revoke_family(m.access.record.family);
    CHECK(status_of(a.identify(request_with(m.access.text))) == 401);
}

TEST_CASE("authenticator: past the failure limit an address gets 429, other addresses do not") {
    fixture f;
    auto a = f.make(auth_mode::token, 3);
    auto good = f.mint(core::role::operator_).access.text;
    for (int i = 0; i < 3; ++i) CHECK(status_of(a.identify(request_with("garbage"))) == 401);
    auto limited = a.identify(request_with(good));
    REQUIRE(status_of(limited) == 429);
    CHECK(std::get<refusal>(limited).retry_after_s > 0);
    CHECK(status_of(a.identify(request_with(good, "10.9.9.9:1"))) == 200);
    // A missing token is not a guess: it does not count.
    auto b = f.make(auth_mode::token, 1);
    CHECK(status_of(b.identify(request_with(""))) == 401);
    CHECK(status_of(b.identify(request_with(good))) == 200);
}

TEST_CASE("failure limiter: windows end, addresses are kept without their port, the table is bounded") {
    failure_limiter l({2, 1000, 3});
    l.failed("a", 0);
    l.failed("a", 10);
    CHECK(l.blocked_for("a", 20) == 980);
    CHECK(l.blocked_for("a", 1000) == 0);
    CHECK(failure_limiter::address_of("127.0.0.1:5000") == "127.0.0.1");
    CHECK(failure_limiter::address_of("[::1]:5000") == "::1");
    for (int i = 0; i < 10; ++i) l.failed("x" + std::to_string(i), 2000);
    l.failed("b", 2000);
    l.failed("b", 2001);
    CHECK(l.blocked_for("b", 2002) > 0);
}

TEST_CASE("key files: the HS256 secret is made once, mode 0600, and one readable by others is refused") {
    store::test::temp_dir dir;
    auto first = load_hub_key(dir.path(), {});
    struct stat st {};
    REQUIRE(::stat((dir / secret_file_name).c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    auto second = load_hub_key(dir.path(), {});
    auto token = first->sign({{"a", 1}});
    CHECK(second->verify(token) == core::json{{"a", 1}});
    ::chmod((dir / secret_file_name).c_str(), 0644);
    CHECK_THROWS_WITH(load_hub_key(dir.path(), {}), Catch::Contains("other users can read it (mode 644)"));
    std::ofstream(dir / "not-a-key.pem") << "hello";
    CHECK_THROWS_WITH(load_hub_key(dir.path(), dir / "not-a-key.pem"), Catch::Contains("holds no PEM key"));
    CHECK_THROWS_WITH(load_hub_key(dir.path(), dir / "missing.pem"), Catch::Contains("cannot read it"));
}

TEST_CASE("token mint: bodies are checked field by field") {
    auto r = mint_request_from_json({{"role", "agent"}, {"name", "web"}, {"ttl", "1h"}});
    CHECK(r.granted == core::role::agent);
    CHECK(r.ttl_ms == 3'600'000);
    CHECK_THROWS_WITH(mint_request_from_json({{"name", "x"}}), Catch::Contains("\"role\" is required"));
    CHECK_THROWS_WITH(mint_request_from_json({{"role", "root"}}), Catch::Contains("must be agent, operator or admin"));
    CHECK_THROWS_WITH(mint_request_from_json({{"role", "admin"}, {"ttl", "0s"}}), Catch::Contains("ttl must be between"));
    CHECK_THROWS_WITH(mint_request_from_json({{"role", "admin"}, {"name", std::string(200, 'n')}}), Catch::Contains("name must be"));
}

TEST_CASE("route table: literal segments beat parameters, parameters are captured, rules are required") {
    engine::route_table t;
    auto none = [](const transport::http_request&, const engine::route_params&, const core::principal&, transport::http_reply) {};
    core::role_set ops{core::role::operator_};
    t.add("GET", "/api/v1/jobs/{id}", ops, none);
    t.add("POST", "/api/v1/jobs/batch", ops, none);
    t.add("GET", "/api/v1/jobs/{id}/logs", ops, none);
    t.add("GET", "/api/v1/jobs/stats", ops, none);
    auto m = t.match("GET", "/api/v1/jobs/abc/logs");
    REQUIRE(m.found);
    CHECK(m.found->pattern == "/api/v1/jobs/{id}/logs");
    CHECK(m.params == engine::route_params{"abc"});
    CHECK(t.match("GET", "/api/v1/jobs/stats").found->pattern == "/api/v1/jobs/stats");
    CHECK(t.match("GET", "/api/v1/jobs/batch").found->pattern == "/api/v1/jobs/{id}");
    CHECK_FALSE(t.match("DELETE", "/api/v1/jobs/abc").found);
    CHECK_FALSE(t.match("GET", "/api/v1/jobs/a/b/c").found);
    CHECK_THROWS_AS(t.add("GET", "/api/v1/jobs/{id}", ops, none), core::error);
    CHECK_THROWS_AS(t.add("GET", "/x", core::role_set{}, none), core::error);
    CHECK(t.describe().at("routes").size() == 4);
}
