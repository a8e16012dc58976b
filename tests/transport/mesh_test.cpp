#include <catch2/catch.hpp>

#include <cstdio>

#include "test_support.hpp"
#include "transport/codec.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;
using namespace orbitmesh::transport::test;

namespace {

std::string msgpack_of(const json& j) {
    auto v = json::to_msgpack(j);
    return {v.begin(), v.end()};
}

std::shared_ptr<mesh_peer> next_peer(hub& h) {
    auto p = h.opened.pop();
    REQUIRE(p);
    return *p;
}

/// The agent's `t` values, in arrival order, up to `n` of them.
std::vector<int> seqs(inbox<json>& box, std::size_t n) {
    REQUIRE(box.wait_size(n, 10s));
    std::vector<int> out;
    for (auto& m : box.snapshot()) out.push_back(m["seq"].get<int>());
    return out;
}

std::vector<int> iota(int n) {
    std::vector<int> v(n);
    for (int i = 0; i < n; ++i) v[i] = i;
    return v;
}

}  // namespace

TEST_CASE("mesh: client and hub exchange messages both ways in either subprotocol") {
    bool json_format = GENERATE(false, true);
    hub h;
    agent a(h.port(), json_format);
    REQUIRE(a.connect_and_wait());
    auto peer = next_peer(h);
    CHECK(peer->upgrade_request().headers.at("sec-websocket-protocol") ==
          (json_format ? "orbitmesh.json" : "orbitmesh.msgpack"));
    CHECK_THAT(peer->remote_address(), Catch::StartsWith("127.0.0.1:"));

    a.client().send({{"t", "hello"}, {"protocol", 1}, {"tags", {{"zone", "eu"}}}});
    auto hello = h.messages.pop();
    REQUIRE(hello);
    CHECK((*hello)["tags"]["zone"] == "eu");
    peer->send({{"t", "welcome"}, {"session", "s1"}, {"heartbeat_ms", 5000}});
    auto welcome = a.messages.pop();
    REQUIRE(welcome);
    CHECK((*welcome)["session"] == "s1");

    a.client().close("bye");
    auto agent_reason = a.closed.pop();
    auto hub_reason = h.closes.pop();
    REQUIRE(agent_reason);
    REQUIRE(hub_reason);
    CHECK(*agent_reason == "closed with 1000: bye");
    CHECK(*hub_reason == "closed by agent with 1000: bye");
    auto history = h.history();
    REQUIRE(history.size() == 1);
    CHECK(well_formed(history.begin()->second));
}

TEST_CASE("mesh: a client offering no subprotocol speaks MessagePack") {
    hub h;
    raw_client raw(h.port(), "");
    auto peer = next_peer(h);
    REQUIRE_FALSE(raw.send(msgpack_of({{"t", "hello"}})));
    REQUIRE(h.messages.pop());
    peer->send({{"t", "welcome"}});
    auto frame = raw.read();
    REQUIRE(frame);
    CHECK(raw.ws().got_binary());
    CHECK(decode_frame(*frame, false).at(0)["t"] == "welcome");
}

TEST_CASE("mesh: queued messages are coalesced into fewer frames and arrive in order") {
    bool json_format = GENERATE(false, true);
    constexpr int n = 2000;
    hub h;
    raw_client raw(h.port(), json_format ? "orbitmesh.json" : "orbitmesh.msgpack");
    auto peer = next_peer(h);
    for (int i = 0; i < n; ++i) peer->send({{"t", "output"}, {"seq", i}});
    std::vector<int> got;
    int frames = 0;
    while (got.size() < static_cast<std::size_t>(n)) {
        auto frame = raw.read();
        REQUIRE(frame);
        ++frames;
        for (auto& m : decode_frame(*frame, json_format)) got.push_back(m["seq"].get<int>());
    }
    CHECK(got == iota(n));
    CHECK(frames < n);
}

TEST_CASE("mesh: many messages each way keep their order") {
    constexpr int n = 20000;
    hub h;
    agent a(h.port());
    REQUIRE(a.connect_and_wait());
    auto peer = next_peer(h);
    std::thread hub_sender([&] {
        for (int i = 0; i < n; ++i) peer->send({{"t", "assign"}, {"seq", i}});
    });
    for (int i = 0; i < n; ++i) a.client().send({{"t", "ack"}, {"seq", i}});
    hub_sender.join();
    CHECK(seqs(a.messages, n) == iota(n));
    CHECK(seqs(h.messages, n) == iota(n));
}

TEST_CASE("mesh: an oversized frame closes that connection with 1009 and others carry on") {
    server_options o;
    o.max_frame = 1024;
    hub h(o);
    agent good(h.port());
    REQUIRE(good.connect_and_wait());
    auto good_peer = next_peer(h);

    raw_client bad(h.port());
    next_peer(h);
    auto big = GENERATE(std::size_t{4096}, std::size_t{4u << 20});  // a big one must not end in a reset
    REQUIRE_FALSE(bad.send(msgpack_of({{"t", "output"}, {"data", std::string(big, 'x')}})));
    auto [code, reason] = bad.wait_close();
    CHECK(code == 1009);
    CHECK(reason == "frame larger than the 1024-byte limit");
    auto hub_reason = h.closes.pop();
    REQUIRE(hub_reason);
    CHECK(*hub_reason == "closed with 1009: frame larger than the 1024-byte limit");

    good.client().send({{"t", "heartbeat"}});
    auto m = h.messages.pop();
    REQUIRE(m);
    CHECK((*m)["t"] == "heartbeat");
    good_peer->send({{"t", "assign"}});
    REQUIRE(good.messages.pop());
}

TEST_CASE("mesh: a bad frame closes that connection with a code and a reason") {
    struct bad_frame {
        std::string subprotocol;
        std::string bytes;
        bool text;
        int code;
        std::string reason_start;
    };
    auto bad = GENERATE(
        bad_frame{"orbitmesh.msgpack", "\xc1\xc1", false, 1007, "invalid MessagePack frame: "},
        bad_frame{"orbitmesh.msgpack", msgpack_of(42), false, 1007, "message is not a map"},
        bad_frame{"orbitmesh.msgpack", msgpack_of({{"x", 1}}), false, 1007, "message has no string field"},
        bad_frame{"orbitmesh.msgpack", R"({"t":"hello"})", true, 1003, "text frame on an orbitmesh.msgpack connection"},
        bad_frame{"orbitmesh.msgpack", std::string(1'000'000, '\x91'), false, 1007, "invalid MessagePack frame: nested"},
        bad_frame{"orbitmesh.json", R"({"t": )", true, 1007, "invalid JSON frame: "});
    hub h;
    agent bystander(h.port());
    REQUIRE(bystander.connect_and_wait());
    next_peer(h);

    raw_client raw(h.port(), bad.subprotocol);
    REQUIRE_FALSE(raw.send(bad.bytes, bad.text));
    auto [code, reason] = raw.wait_close();
    CHECK(code == bad.code);
    CHECK_THAT(reason, Catch::StartsWith(bad.reason_start));
    auto hub_reason = h.closes.pop();
    REQUIRE(hub_reason);
    CHECK_THAT(*hub_reason, Catch::StartsWith("closed with " + std::to_string(bad.code) + ": " + bad.reason_start));

    bystander.client().send({{"t", "heartbeat"}});
    REQUIRE(h.messages.pop());
    CHECK(h.messages.size() == 0);  // nothing from the bad frame was delivered
}

TEST_CASE("mesh: stop() closes every agent with 1001 and on_close runs once each") {
    hub h;
    agent a1(h.port());
    agent a2(h.port(), true);
    REQUIRE(a1.connect_and_wait());
    REQUIRE(a2.connect_and_wait());
    REQUIRE(h.opened.wait_size(2));
    h.srv().stop();
    for (auto* a : {&a1, &a2}) {
        auto reason = a->closed.pop();
        REQUIRE(reason);
        CHECK(*reason == "closed by hub with 1001: server shutting down");
    }
    REQUIRE(h.closes.wait_size(2));
    std::this_thread::sleep_for(50ms);
    CHECK(h.closes.size() == 2);
    for (auto& [id, events] : h.history()) CHECK(well_formed(events));

    agent late(h.port());
    late.connect();
    auto reason = late.closed.pop();
    REQUIRE(reason);
    CHECK_THAT(*reason, Catch::StartsWith("cannot connect to 127.0.0.1:"));
}

TEST_CASE("mesh: an agent that does not read is dropped when its send queue is full") {
    server_options o;
    o.max_send_queue = 256u << 10;
    hub h(o);
    raw_client slow(h.port());  // never reads
    auto peer = next_peer(h);
    std::string chunk(64u << 10, 'x');
    for (int i = 0; i < 2000 && h.closes.size() == 0; ++i) peer->send({{"t", "output"}, {"data", chunk}});
    auto reason = h.closes.pop(10s);
    REQUIRE(reason);
    CHECK(*reason == "closed with 1008: send queue full: agent too slow");
    peer->send({{"t", "output"}});  // after the close: ignored, no crash
}

TEST_CASE("mesh: on_upgrade can refuse the handshake with 401") {
    hub h({}, {}, [](mesh_handler& m) {
        m.on_upgrade = [](const http_request& req) -> std::optional<http_response> {
            auto it = req.headers.find("authorization");
            if (it != req.headers.end() && it->second == "Bearer good") return std::nullopt;
            return http_response{401, "application/json", R"({"error":"unauthorized","message":"token rejected"})", {}};
        };
    });
    agent anonymous(h.port());
    anonymous.connect();
    auto reason = anonymous.closed.pop();
    REQUIRE(reason);
    CHECK(*reason == "the hub at 127.0.0.1:" + std::to_string(h.port()) +
                         " refused the connection: HTTP 401 Unauthorized: token rejected");

    agent member(h.port(), false, "good");
    REQUIRE(member.connect_and_wait());
    CHECK(next_peer(h)->upgrade_request().headers.at("authorization") == "Bearer good");
    CHECK(h.history().size() == 1);  // the refused one never opened
}

TEST_CASE("mesh: an upgrade to another path gets 404") {
    hub h;
    agent a(h.port(), false, {}, "/elsewhere");
    a.connect();
    auto reason = a.closed.pop();
    REQUIRE(reason);
    CHECK_THAT(*reason, Catch::Contains("HTTP 404"));
    CHECK_THAT(*reason, Catch::Contains("/elsewhere"));
}

TEST_CASE("mesh_client: failures to connect are reported once with a reason") {
    SECTION("connection refused") {
        auto port = closed_port();
        agent a(port);
        a.connect();
        auto reason = a.closed.pop();
        REQUIRE(reason);
        CHECK(*reason == "cannot connect to 127.0.0.1:" + std::to_string(port) + ": Connection refused");
        std::this_thread::sleep_for(100ms);
        CHECK(a.closed.size() == 0);
        CHECK(a.connected.size() == 0);
        a.client().send({{"t", "hello"}});  // not connected: dropped
        a.connect();                       // and again after on_closed
        REQUIRE(a.closed.pop());
    }
    SECTION("a wss:// url to a plain listener") {
        hub h;
        auto opts = agent::make_options(h.port(), false, {}, {});
        opts.url.tls = true;
        agent a(opts);
        a.connect();
        auto reason = a.closed.pop();
        REQUIRE(reason);
        CHECK_THAT(*reason, Catch::Contains("TLS handshake with 127.0.0.1:" + std::to_string(h.port()) + " failed"));
    }
}

namespace {

/// Waits until `counter` reaches `n`; false after `timeout`.
bool wait_count(const std::atomic<int>& counter, int n, std::chrono::seconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (counter.load() < n) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

template <class Send>
double rate(int n, const std::atomic<int>& received, Send send) {
    int before = received.load();
    auto start = std::chrono::steady_clock::now();
    json msg = {{"t", "output"}, {"job_id", "0190f5a2-7c1e-7000-8000-000000000001"}, {"attempt", 1},
                {"seq", 0}, {"stream", "stdout"}, {"data", "a line of output"}};
    for (int i = 0; i < n; ++i) {
        msg["seq"] = i;
        send(msg);
    }
    REQUIRE(wait_count(received, before + n, 120s));
    return n / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

TEST_CASE("mesh: messages per second through one connection with coalescing", "[.bench]") {
    constexpr int n = 1'000'000;
    std::atomic<int> at_hub{0};
    std::atomic<int> at_agent{0};
    server_options o;
    o.max_send_queue = std::size_t{1} << 30;  // the senders below outrun the wire on purpose
    hub h(o, {}, [&](mesh_handler& m) { m.on_message = [&](const auto&, json) { ++at_hub; }; });
    for (bool json_format : {false, true}) {
        io_runner agent_io(1);
        auto opts = agent::make_options(h.port(), json_format, {}, {});
        opts.max_send_queue = std::size_t{1} << 30;
        mesh_client client(agent_io.io, opts);
        inbox<bool> connected;
        client.connect({[&] { connected.push(true); }, [&](json) { ++at_agent; }, [](const std::string&) {}});
        REQUIRE(connected.pop());
        auto peer = next_peer(h);
        double down = rate(n, at_agent, [&](const json& m) { peer->send(m); });
        double up = rate(n, at_hub, [&](const json& m) { client.send(m); });
        std::printf("{\"metric\":\"ws_messages_per_second\",\"format\":\"%s\",\"messages\":%d,"
                    "\"hub_to_agent\":%.0f,\"agent_to_hub\":%.0f}\n",
                    json_format ? "json" : "msgpack", n, down, up);
        client.close("done");
        REQUIRE(h.closes.pop());
    }
}
