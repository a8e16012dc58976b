// post_webhook: one POST with a deadline, and errors that name the webhook (not "the hub").
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "test_support.hpp"
#include "transport/webhook_client.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;
using namespace orbitmesh::transport::test;
namespace core = orbitmesh::core;
namespace net = orbitmesh::net;

namespace {

core::server_url local(std::uint16_t port, std::string path = "/hook") {
    core::server_url u;
    u.host = "127.0.0.1";
    u.port = port;
    u.path = std::move(path);
    return u;
}

std::string error_of(const core::server_url& url, std::chrono::milliseconds timeout, core::error_kind kind) {
    try {
        post_webhook(url, "{}", timeout);
    } catch (const core::error& e) {
        CHECK(e.kind() == kind);
        return e.what();
    }
    FAIL("the POST succeeded");
    return {};
}

}  // namespace

TEST_CASE("webhook client: POSTs the JSON body to the path and returns the status") {
    inbox<http_request> seen;
    hub h({}, [&](http_request req, http_reply reply) {
        seen.push(req);
        reply(http_response{202, "application/json", "{}", {}});
    });
    auto res = post_webhook(local(h.port()), R"({"message":"deployed"})", 5s);
    CHECK(res.status == 202);
    auto req = seen.pop();
    REQUIRE(req);
    CHECK(req->method == "POST");
    CHECK(req->path == "/hook");
    CHECK(req->body == R"({"message":"deployed"})");
    CHECK(req->headers["content-type"] == "application/json");
}

TEST_CASE("webhook client: a refused connection and a silent server are named as the webhook") {
    std::uint16_t closed_port = 0;
    {
        net::io_context io;
        tcp::acceptor a(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
        closed_port = a.local_endpoint().port();
    }
    auto refused = error_of(local(closed_port), 2s, core::error_kind::unavailable);
    CHECK(refused == "webhook http://127.0.0.1:" + std::to_string(closed_port) + "/hook: cannot connect: Connection refused");

    net::io_context io;
    tcp::acceptor silent(io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));  // listens, never answers
    auto port = silent.local_endpoint().port();
    auto slow = error_of(local(port, ""), 200ms, core::error_kind::timeout);
    CHECK(slow == "webhook http://127.0.0.1:" + std::to_string(port) + "/: no answer within 200ms");
}
