#include <catch2/catch.hpp>

#include "engine/hub/pending_reason.hpp"

using namespace orbitmesh;
using engine::explain_pending;
using engine::pending_candidate;

namespace {

core::agent_record agent(const std::string& name) {
    core::agent_record a;
    a.id = name + "-id";
    a.name = name;
    a.concurrency = 1;
    a.capabilities = {"linux"};
    a.tags = {{"zone", "eu"}};
    return a;
}

core::job_record pending(const std::string& command) {
    core::job_record j;
    j.id = "j1";
    j.spec.command = command;
    return j;
}

}  // namespace

TEST_CASE("pending reason: each part of the target nobody offers is named") {
    auto a = agent("web-1");
    std::set<std::string> handlers{"echo"};
    std::vector<pending_candidate> agents{{{&a, &handlers, 0}, false}};
    auto j = pending("echo");
    CHECK(explain_pending(j, {}, 0) == "no agent is connected");
    j.spec.target.capabilities = {"gpu"};
    CHECK(explain_pending(j, agents, 0) == "no connected agent has capability \"gpu\"");
    j.spec.target = {};
    j.spec.target.agent = "db-?";
    j.spec.target.tags = {{"zone", "us"}};
    CHECK(explain_pending(j, agents, 0) == "no connected agent is named \"db-?\"; no connected agent has tag zone=us");
    j.spec.target = {};
    j.spec.target.agent = "web-?";  // a glob that matches: not a reason
    CHECK(explain_pending(j, agents, 0).rfind("waiting for the dispatcher", 0) == 0);
    j.spec.command = "shell";
    CHECK(explain_pending(j, agents, 0) ==
          "no connected agent offers handler \"shell\" (the connected agents run with --no-shell)");
}

TEST_CASE("pending reason: able agents that are busy or out of rotation, and a retry backoff") {
    auto a = agent("w1");
    auto b = agent("w2");
    b.tags = {{"zone", "us"}};
    std::set<std::string> handlers;  // empty: accepts any command
    auto j = pending("echo");
    j.spec.target.tags = {{"zone", "eu"}};
    std::vector<pending_candidate> agents{{{&a, &handlers, 1}, false}, {{&b, &handlers, 0}, false}};
    CHECK(explain_pending(j, agents, 0) == "every agent that can run it is busy (1 agent, all slots in use)");
    agents[0] = {{&a, &handlers, 0}, true};
    CHECK(explain_pending(j, agents, 0) ==
          "every agent that can run it is out of rotation (circuit breaker open after failures)");
    j.spec.target.tags = {{"zone", "eu"}};
    j.spec.target.agent = "w2";  // each part is offered by someone, but not by one agent
    CHECK(explain_pending(j, agents, 0) ==
          "no single connected agent meets all of its target (name, capabilities, tags and handler)");
    j.not_before_ms = 10'000;
    CHECK(explain_pending(j, agents, 5'000).rfind("waiting out its retry backoff until ", 0) == 0);
    j.state = core::job_state::running;
    CHECK(explain_pending(j, agents, 0).empty());
}
