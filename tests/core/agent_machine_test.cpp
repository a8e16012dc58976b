#include <catch2/catch.hpp>

#include "core/agent_machine.hpp"
#include "core/error.hpp"

using namespace orbitmesh::core;

namespace {

event agent_event_of(agent_event_kind kind, std::int64_t version) {
    event e;
    e.stream = "agent-a1";
    e.version = version;
    e.type = std::string(kind == agent_event_kind::connected ? agent_event::connected : agent_event::disconnected);
    e.time_ms = 1'700'000'000'000 + version;
    e.data = {{"name", "web1"}, {"tags", {{"role", "web"}}}, {"capabilities", {"shell"}}, {"concurrency", 4},
              {"version", "0.1.0"}};
    if (kind == agent_event_kind::disconnected) e.data["reason"] = "missed 3 heartbeats";
    return e;
}

}  // namespace

TEST_CASE("agent machine: the fold accepts exactly the table's transitions") {
    const std::optional<agent_state> froms[] = {std::nullopt, agent_state::connected, agent_state::disconnected};
    int allowed = 0;
    for (const auto& from : froms) {
        for (auto kind : {agent_event_kind::connected, agent_event_kind::disconnected}) {
            agent_history a;
            a.id = "a1";
            if (from) {
                a.state = *from;
                a.events = 3;
            }
            const bool in_table = agent_transition_allowed(from, kind);
            INFO((from ? std::string(to_string(*from)) : "(none)") << " " << static_cast<int>(kind));
            if (in_table) {
                REQUIRE_NOTHROW(apply(a, agent_event_of(kind, 4)));
                CHECK(a.state == (kind == agent_event_kind::connected ? agent_state::connected : agent_state::disconnected));
                CHECK(a.events == 4);
                ++allowed;
            } else {
                const auto events = a.events;
                CHECK_THROWS_AS(apply(a, agent_event_of(kind, 4)), error);
                CHECK(a.events == events);
            }
        }
    }
    CHECK(allowed == static_cast<int>(agent_transitions().size()));
}

TEST_CASE("agent machine: the history keeps the latest profile and the disconnect reason") {
    agent_history a;
    a.id = "a1";
    apply(a, agent_event_of(agent_event_kind::connected, 1));
    apply(a, agent_event_of(agent_event_kind::disconnected, 2));
    CHECK(a.name == "web1");
    CHECK(a.tags.at("role") == "web");
    CHECK(a.concurrency == 4);
    CHECK(a.reason == "missed 3 heartbeats");
    CHECK(a.connected_ms == 1'700'000'000'001);
    CHECK(to_record(a).state == agent_state::disconnected);
    CHECK_THROWS_WITH(apply(a, agent_event_of(agent_event_kind::disconnected, 3)), Catch::Contains("not allowed"));
}
