#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "test_support.hpp"
#include "transport/http_client.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;
using namespace orbitmesh::transport::test;
namespace core = orbitmesh::core;

namespace {

core::server_url local(std::uint16_t port) {
    core::server_url u;
    u.host = "127.0.0.1";
    u.port = port;
    return u;
}

/// Answers every request with what it saw, as JSON.
void echo(http_request req, http_reply reply) {
    http_response res;
    res.body = json{{"method", req.method}, {"path", req.path}, {"query", req.query}, {"body", req.body},
                    {"user_agent", req.headers["user-agent"]}, {"authorization", req.headers["authorization"]}}
                   .dump();
    res.headers.emplace_back("X-Seen-Remote", req.remote);
    reply(std::move(res));
}

}  // namespace

TEST_CASE("server: an HTTP request is answered by the handler with a decoded path and query") {
    hub h({}, echo);
    http_client client(local(h.port()), "tok");
    auto res = client.request("POST", "/api/v1/jobs/a%20b?state=run+ning&x=%3D", R"({"k":1})");
    CHECK(res.status == 200);
    CHECK(res.content_type == "application/json");
    auto body = json::parse(res.body);
    CHECK(body["method"] == "POST");
    CHECK(body["path"] == "/api/v1/jobs/a b");
    CHECK(body["query"]["state"] == "run ning");
    CHECK(body["query"]["x"] == "=");
    CHECK(body["body"] == R"({"k":1})");
    CHECK(body["user_agent"] == "orbitmesh-cli");  // header names arrive lower-case
    CHECK(body["authorization"] == "Bearer tok");
}

TEST_CASE("server: a reply may come later from another thread on a kept-alive connection") {
    std::mutex mu;
    std::vector<std::thread> repliers;
    hub h({}, [&](http_request req, http_reply reply) {
        std::lock_guard lock(mu);
        repliers.emplace_back([req = std::move(req), reply = std::move(reply)] {
            std::this_thread::sleep_for(50ms);
            reply(http_response{201, "text/plain", "late " + req.path, {}});
            reply(http_response{500, "text/plain", "twice", {}});  // ignored: exactly once
        });
    });
    http_client client(local(h.port()));
    for (int i = 0; i < 3; ++i) {
        auto res = client.request("GET", "/slow/" + std::to_string(i));
        CHECK(res.status == 201);
        CHECK(res.body == "late /slow/" + std::to_string(i));
    }
    std::lock_guard lock(mu);
    for (auto& t : repliers) t.join();
}

TEST_CASE("server: a handler that throws gets a 500 with a JSON error") {
    hub h({}, [](http_request, http_reply) { throw std::runtime_error("boom"); });
    http_client client(local(h.port()));
    auto res = client.request("GET", "/x");
    CHECK(res.status == 500);
    CHECK_THAT(json::parse(res.body)["message"].get<std::string>(), Catch::Contains("boom"));
}

TEST_CASE("server: a body over the limit gets 413") {
    server_options o;
    o.max_http_body = 1000;
    hub h(o, echo);
    http_client client(local(h.port()));
    auto res = client.request("POST", "/api/v1/jobs", std::string(5000, 'x'));
    CHECK(res.status == 413);
    CHECK(json::parse(res.body)["error"] == "invalid_input");
    CHECK(client.request("GET", "/after").status == 200);  // the client reconnects on its own
}

TEST_CASE("server: a restarted server binds the same port at once and the client reconnects") {
    std::uint16_t port = 0;
    io_runner runner;
    server_options o;
    o.port = 0;
    auto first = std::make_unique<server>(runner.io, o, echo, mesh_handler{});
    first->start();
    port = first->port();
    http_client client(local(port));
    CHECK(client.request("GET", "/one").status == 200);
    first->stop();
    first.reset();
    o.port = port;
    server second(runner.io, o, echo, mesh_handler{});
    REQUIRE_NOTHROW(second.start());  // SO_REUSEADDR: no wait for TIME_WAIT
    CHECK(second.port() == port);
    auto res = client.request("GET", "/two");  // the kept-alive connection is dead: one silent retry
    CHECK(res.status == 200);
    CHECK(json::parse(res.body)["path"] == "/two");
}

TEST_CASE("server: binding a port in use throws unavailable naming the address") {
    hub h;
    io_runner runner;
    server_options o;
    o.port = h.port();
    server clash(runner.io, o, {}, {});
    try {
        clash.start();
        FAIL("bound a port in use");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::unavailable);
        CHECK_THAT(e.what(), Catch::Contains("cannot listen on 127.0.0.1:" + std::to_string(h.port())));
    }
}

TEST_CASE("http_client: a closed port throws unavailable with a hint") {
    auto port = closed_port();
    http_client client(local(port));
    try {
        client.request("GET", "/healthz", {}, 2s);
        FAIL("reached a closed port");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::unavailable);
        CHECK_THAT(e.what(), Catch::StartsWith("cannot reach the hub at 127.0.0.1:" + std::to_string(port) + ": "));
        CHECK_THAT(e.what(), Catch::Contains("refused"));
        CHECK_THAT(e.what(), Catch::Contains("ORBITMESH_SERVER"));
    }
}

TEST_CASE("http_client: no answer within the timeout throws timeout") {
    inbox<http_reply> parked;  // never answered until the end
    hub h({}, [&](http_request, http_reply reply) { parked.push(std::move(reply)); });
    http_client client(local(h.port()));
    auto started = std::chrono::steady_clock::now();
    try {
        client.request("GET", "/never", {}, 200ms);
        FAIL("got an answer");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::timeout);
        CHECK_THAT(e.what(), Catch::Contains("did not answer GET /never within 200ms"));
    }
    CHECK(std::chrono::steady_clock::now() - started < 2s);
    REQUIRE(parked.pop());  // a late reply to a connection the client dropped is harmless
}

TEST_CASE("server: stop() closes idle HTTP connections and is idempotent") {
    hub h({}, echo);
    http_client client(local(h.port()));
    CHECK(client.request("GET", "/a").status == 200);
    h.srv().stop();
    h.srv().stop();
    try {
        client.request("GET", "/b", {}, 2s);
        FAIL("served after stop");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::unavailable);
    }
}
