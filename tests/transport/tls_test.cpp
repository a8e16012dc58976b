// TLS on the hub's one port (https:// and wss://) and mutual TLS, with certificates made by
// `openssl` at test time.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "test_pki.hpp"
#include "test_support.hpp"
#include "transport/http_client.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;
using namespace orbitmesh::transport::test;
namespace core = orbitmesh::core;

namespace {

core::server_url url(std::uint16_t port, bool tls, const std::string& host = "127.0.0.1") {
    core::server_url u;
    u.host = host;
    u.port = port;
    u.tls = tls;
    return u;
}

/// Answers with what the transport told the handler about the connection.
void who(http_request req, http_reply reply) {
    http_response res;
    res.body = json{{"tls", req.tls}, {"subject", req.tls_subject}}.dump();
    reply(std::move(res));
}

server_options tls_server(const test_pki& pki, bool client_ca) {
    server_options o;
    o.tls.cert_file = pki.pem("hub");
    o.tls.key_file = pki.key("hub");
    if (client_ca) o.tls.client_ca_file = pki.pem("ca");
    return o;
}

mesh_client::options wss(std::uint16_t port, const test_pki& pki, const std::string& client = {}) {
    auto o = agent::make_options(port, false, {}, {});
    o.url.tls = true;
    o.tls.ca_file = pki.pem("ca");
    if (!client.empty()) {
        o.tls.cert_file = pki.pem(client);
        o.tls.key_file = pki.key(client);
    }
    return o;
}

std::string error_of(const std::function<void()>& fn, core::error_kind expected) {
    try {
        fn();
    } catch (const core::error& e) {
        CHECK(e.kind() == expected);
        return e.what();
    }
    FAIL("no error thrown");
    return {};
}

}  // namespace

TEST_CASE("tls: an https request is served and the client verifies the hub against its CA") {
    test_pki pki;
    hub h(tls_server(pki, false), who);
    http_client client(url(h.port(), true), {}, {pki.pem("ca"), {}, {}});
    auto res = client.request("GET", "/who");
    REQUIRE(res.status == 200);
    CHECK(json::parse(res.body) == json{{"tls", true}, {"subject", ""}});
    // keep-alive over TLS: the second request reuses the connection
    CHECK(client.request("GET", "/again").status == 200);
    http_client by_name(url(h.port(), true, "localhost"), {}, {pki.pem("ca"), {}, {}});
    CHECK(by_name.request("GET", "/who").status == 200);
}

TEST_CASE("tls: a client that does not trust the hub's certificate gets unavailable, saying why") {
    test_pki pki;
    hub h(tls_server(pki, false), who);
    SECTION("signed by a CA the client does not know") {
        http_client client(url(h.port(), true), {}, {pki.pem("other-ca"), {}, {}});
        auto msg = error_of([&] { client.request("GET", "/who"); }, core::error_kind::unavailable);
        CHECK_THAT(msg, Catch::Contains("the hub's certificate is not trusted"));
        CHECK_THAT(msg, Catch::Contains("unable to get local issuer certificate"));
        CHECK(msg.find('\n') == std::string::npos);
    }
    SECTION("issued for another address") {
        pki.make_cert("elsewhere", "ca", "elsewhere", "subjectAltName=DNS:elsewhere.example");
        server_options o = tls_server(pki, false);
        o.tls.cert_file = pki.pem("elsewhere");
        o.tls.key_file = pki.key("elsewhere");
        hub other(o, who);
        http_client client(url(other.port(), true), {}, {pki.pem("ca"), {}, {}});
        auto msg = error_of([&] { client.request("GET", "/who"); }, core::error_kind::unavailable);
        CHECK_THAT(msg, Catch::Contains("IP address mismatch"));
    }
}

TEST_CASE("tls: plain HTTP to the TLS port is answered 400 telling to use https") {
    test_pki pki;
    hub h(tls_server(pki, false), who);
    http_client client(url(h.port(), false));
    auto res = client.request("GET", "/who");
    CHECK(res.status == 400);
    CHECK_THAT(res.body, Catch::Contains("use https://"));
}

TEST_CASE("tls: an https client to a plain port fails its handshake with a reason") {
    hub h({}, who);
    test_pki pki;
    http_client client(url(h.port(), true), {}, {pki.pem("ca"), {}, {}});
    auto msg = error_of([&] { client.request("GET", "/who"); }, core::error_kind::unavailable);
    CHECK_THAT(msg, Catch::Contains("TLS handshake failed"));
}

TEST_CASE("tls: unusable certificate files are refused at start, naming the file") {
    test_pki pki;
    io_runner io(1);
    auto start = [&](server_options o) { server(io.io, std::move(o), who, {}); };
    server_options missing = tls_server(pki, false);
    missing.tls.cert_file = (pki.dir() / "nope.pem").string();
    CHECK_THAT(error_of([&] { start(missing); }, core::error_kind::usage),
               Catch::Contains("nope.pem") && Catch::Contains("no such file"));
    pki.make_cert("agent-a", "ca", "agent-a");
    server_options mismatched = tls_server(pki, false);
    mismatched.tls.key_file = pki.key("agent-a");
    CHECK_THAT(error_of([&] { start(mismatched); }, core::error_kind::usage), Catch::Contains("agent-a.key"));
    server_options not_pem = tls_server(pki, true);
    not_pem.tls.client_ca_file = pki.key("hub");
    CHECK_THAT(error_of([&] { start(not_pem); }, core::error_kind::usage), Catch::Contains("--client-ca"));
    auto bad_ca = agent::make_options(1, false, {}, {});
    bad_ca.url.tls = true;
    bad_ca.tls.ca_file = (pki.dir() / "missing-ca.pem").string();
    CHECK_THAT(error_of([&] { mesh_client(io.io, bad_ca); }, core::error_kind::usage), Catch::Contains("missing-ca.pem"));
}

TEST_CASE("mtls: the CN of a verified client certificate reaches on_upgrade and the peer") {
    test_pki pki;
    pki.make_cert("agent-a", "ca", "agent-a");
    std::vector<http_request> upgrades;
    std::mutex mu;
    hub h(tls_server(pki, true), who, [&](mesh_handler& m) {
        m.on_upgrade = [&](const http_request& r) -> std::optional<http_response> {
            std::lock_guard lock(mu);
            upgrades.push_back(r);
            return std::nullopt;
        };
    });
    agent a(wss(h.port(), pki, "agent-a"));
    REQUIRE(a.connect_and_wait());
    auto peer = h.opened.pop();
    REQUIRE(peer);
    CHECK((*peer)->tls_subject() == "agent-a");
    a.client().send({{"t", "hello"}, {"n", 1}});
    auto msg = h.messages.pop();
    REQUIRE(msg);
    CHECK((*msg)["n"] == 1);
    (*peer)->send({{"t", "welcome"}});
    REQUIRE(a.messages.pop());
    {
        std::lock_guard lock(mu);
        REQUIRE(upgrades.size() == 1);
        CHECK(upgrades[0].tls);
        CHECK(upgrades[0].tls_subject == "agent-a");
    }
    // The HTTP API needs no client certificate: plain HTTPS clients carry on.
    http_client cli(url(h.port(), true), {}, {pki.pem("ca"), {}, {}});
    CHECK(json::parse(cli.request("GET", "/who").body)["subject"] == "");
}

TEST_CASE("mtls: no client certificate, or one from another CA, gives no subject or no connection") {
    test_pki pki;
    pki.make_cert("rogue", "other-ca", "agent-a");
    hub h(tls_server(pki, true), who);
    SECTION("none: the transport connects with an empty subject (refusing it is the hub's policy)") {
        agent a(wss(h.port(), pki));
        REQUIRE(a.connect_and_wait());
        auto peer = h.opened.pop();
        REQUIRE(peer);
        CHECK((*peer)->tls_subject().empty());
    }
    SECTION("another CA: the handshake is refused and the agent is told so") {
        agent a(wss(h.port(), pki, "rogue"));
        a.connect();
        auto reason = a.closed.pop();
        REQUIRE(reason);
        CHECK_THAT(*reason, Catch::Contains("refused the TLS connection") && Catch::Contains("unknown ca"));
        CHECK(h.opened.size() == 0);
    }
}
