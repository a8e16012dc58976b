// Agent messages are parsed once into typed structs; a wrong type anywhere names the field.
#include <catch2/catch.hpp>

#include "core/agent_messages.hpp"
#include "core/error.hpp"

using namespace orbitmesh::core;
namespace p = orbitmesh::core::protocol;

namespace {

json good_hello() {
    return {{"t", "hello"},        {"protocol", 1},       {"agent_id", "a-1"},
            {"name", "web1"},      {"tags", {{"role", "web"}}}, {"capabilities", {"docker"}},
            {"handlers", {"echo"}}, {"concurrency", 4},   {"version", "1.0"},
            {"running", {{{"job_id", "j1"}, {"attempt", 2}}}}};
}

/// The one-line reason parse_agent_message gives for `m` (fails the test when it parses).
std::string reason_for(json m) {
    try {
        p::parse_agent_message(std::move(m));
    } catch (const error& e) {
        CHECK(e.kind() == error_kind::protocol);
        return e.what();
    }
    FAIL("the message parsed");
    return {};
}

}  // namespace

TEST_CASE("agent messages: a hello parses into its struct, nested running jobs included") {
    auto m = p::parse_agent_message(good_hello());
    REQUIRE(std::holds_alternative<p::hello>(m));
    const auto& h = std::get<p::hello>(m);
    CHECK(h.agent_id == "a-1");
    CHECK(h.tags.at("role") == "web");
    CHECK(h.capabilities == std::vector<std::string>{"docker"});
    REQUIRE(h.handlers);
    CHECK(h.concurrency == 4);
    REQUIRE(h.running.size() == 1);
    CHECK(h.running[0].job_id == "j1");
    CHECK(h.running[0].attempt == 2);
    CHECK(p::type_of(m) == "hello");
}

TEST_CASE("agent messages: a wrong type in a nested field names that field") {
    CHECK(reason_for({{"t", "heartbeat"}, {"load", {{"cpu", "lots"}}}}) ==
          "heartbeat field \"load.cpu\" must be a number, got a string");
    auto h = good_hello();
    h["running"] = {{{"job_id", "j1"}, {"attempt", "1"}}};
    CHECK(reason_for(h) == "hello field \"running[0].attempt\" must be an integer of at least 1, got a string");
    h = good_hello();
    h["tags"] = {{"role", 7}};
    CHECK(reason_for(h) == "hello field \"tags.role\" must be a string, got an integer");
    h = good_hello();
    h["capabilities"] = {"docker", nullptr};
    CHECK(reason_for(h) == "hello field \"capabilities\" must be an array of strings, but item 1 is null");
    h = good_hello();
    h["running"] = {"j1"};
    CHECK(reason_for(h) == "hello field \"running\" must be an array of maps, but item 0 is a string");
}

TEST_CASE("agent messages: missing fields and out-of-range values are named") {
    CHECK(reason_for({{"t", "ack"}, {"job_id", "j"}}) == "ack is missing field \"attempt\"");
    CHECK(reason_for({{"t", "ack"}, {"job_id", "j"}, {"attempt", 0}}) ==
          "ack field \"attempt\" must be an integer of at least 1, got 0");
    CHECK(reason_for({{"t", "ack"}, {"job_id", "j"}, {"attempt", 1LL << 40}}).find("\"attempt\"") != std::string::npos);
    CHECK(reason_for({{"t", "progress"}, {"job_id", "j"}, {"attempt", 1}, {"percent", 250}}) ==
          "progress field \"percent\" must be a number from 0 to 100, got 250");
    CHECK(reason_for({{"t", "output"}, {"job_id", "j"}, {"attempt", 1}, {"seq", 1}, {"stream", "tty"}, {"data", "x"}}) ==
          "output field \"stream\" must be stdout, stderr or data, got \"tty\"");
    auto h = good_hello();
    h["agent_id"] = "";
    CHECK(reason_for(h) == "hello field \"agent_id\" must be 1 to 128 bytes long, got 0");
    h = good_hello();
    h.erase("tags");
    CHECK(reason_for(h) == "hello is missing field \"tags\"");
}

TEST_CASE("agent messages: what is not an agent message is refused with a reason") {
    CHECK(reason_for(json::array()) == "message is not a map");
    CHECK(reason_for({{"x", 1}}) == "message has no string field \"t\"");
    CHECK(reason_for({{"t", "bogus"}}) == "unknown message type \"bogus\"");
    CHECK(reason_for({{"t", "assign"}, {"job_id", "j"}}) == "assign is a hub-to-agent message; an agent may not send it");
}

TEST_CASE("agent messages: a result keeps its output, exit code and error, and unknown fields pass") {
    auto m = p::parse_agent_message({{"t", "result"}, {"job_id", "j"}, {"attempt", 3}, {"status", "failed"},
                                     {"exit_code", 2}, {"output", {{"k", 1}}}, {"error", "boom"}, {"future", true}});
    const auto& r = std::get<p::result>(m);
    CHECK(r.attempt == 3);
    CHECK(r.exit_code == 2);
    CHECK(r.output == json{{"k", 1}});
    CHECK(r.error == "boom");
    auto none = p::parse_agent_message({{"t", "result"}, {"job_id", "j"}, {"attempt", 1}, {"status", "failed"},
                                        {"exit_code", nullptr}, {"error", nullptr}});
    CHECK_FALSE(std::get<p::result>(none).exit_code);
    CHECK(std::get<p::result>(none).error.empty());
    CHECK(reason_for({{"t", "result"}, {"job_id", "j"}, {"attempt", 1}, {"status", "ok"}, {"exit_code", 1.5}}) ==
          "result field \"exit_code\" must be an integer, got a number");
}

TEST_CASE("agent messages: output data that is not text arrives as its JSON text") {
    auto m = p::parse_agent_message(
        {{"t", "output"}, {"job_id", "j"}, {"attempt", 1}, {"seq", 4}, {"stream", "data"}, {"data", {{"rows", 2}}}});
    CHECK(std::get<p::output>(m).data == R"({"rows":2})");
    CHECK(reason_for({{"t", "output"}, {"job_id", "j"}, {"attempt", 1}, {"seq", 4}, {"stream", "data"}}) ==
          "output is missing field \"data\"");
}
