// Runs of the original OrbitMesh's constructs against a fake job_port: computed step timeouts,
// inputs read as bare names, and a pattern: job that answers with one result or one per agent.
#include "runner_test_support.hpp"

using namespace orbitmesh;
using core::json;
using test::fake_port;
using test::fixture;

namespace {

/// A port with two connected agents, so a fan-out has somewhere to go.
struct two_agents_port : fake_port {
    std::vector<core::agent_record> agents_for(const core::job_spec&) override {
        core::agent_record a, b;
        a.id = "id-a";
        a.name = "web-a";
        b.id = "id-b";
        b.name = "web-b";
        return {a, b};
    }
};

std::int64_t longest_timer(const fake_port& p) {
    std::int64_t out = -1;
    for (const auto& [delay, fn] : p.timers) out = std::max(out, delay);
    return out;
}

const char* computed = R"(
id: computed
inputs:
  per: {type: integer, default: 2}
steps:
  - id: slow
    command: sleep
    timeout: "${{ inputs.per * 3 }}s"
)";

}  // namespace

TEST_CASE("original runs: a computed timeout is the job's timeout and the step's, and survives a restart") {
    fixture f;
    f.add(computed);
    auto id = f.start("computed", {{"per", 4}});
    REQUIRE(f.port.created.size() == 1);
    CHECK(f.port.spec(0).timeout_ms == 12'000);
    CHECK(f.run(id).find("slow")->detail["timeout_ms"] == 12'000);
    // After a crash the new runner arms it again from what was recorded, not from the template.
    fake_port port2;
    port2.jobs = f.port.jobs;
    auto rn2 = std::make_shared<engine::runner>(port2, [](std::function<void()> fn) { fn(); });
    port2.runner = rn2;
    for (const auto& e : f.port.log) rn2->replay(e);
    rn2->recovered();
    CHECK(longest_timer(port2) > 10'000);
    CHECK(longest_timer(port2) <= 12'000);
    f.port.fire(11'999);
    CHECK(f.state(id, "slow") == core::step_state::running);
    f.port.fire(12'000);
    CHECK(f.state(id, "slow") == core::step_state::timed_out);
    CHECK(f.run(id).find("slow")->error == "step slow timed out after 12.0s");
}

TEST_CASE("original runs: a computed timeout that gives no duration fails the step and says what it gave") {
    fixture f;
    f.add("id: bad\ninputs:\n  t: {type: string}\nsteps:\n  - {id: a, command: sleep, timeout: \"${{ inputs.t }}\"}\n");
    auto id = f.start("bad", {{"t", "soon"}});
    CHECK(f.port.created.empty());
    CHECK(f.state(id, "a") == core::step_state::failed);
    CHECK(f.run(id).find("a")->error ==
          "step a: timeout ${{ inputs.t }} gave \"soon\", which is not a duration (use 250ms, 30s, 5m, 1h, 2d, 1m30s or HH:MM:SS)");
    auto number = f.start("bad", {{"t", "30"}});
    CHECK(f.run(number).find("a")->error.find("gave \"30\", which is not a duration") != std::string::npos);
    f.add("id: num\ninputs:\n  t: {type: integer}\nsteps:\n  - {id: a, command: sleep, timeout: \"${{ inputs.t }}\"}\n");
    auto bare = f.start("num", {{"t", 30}});
    CHECK(f.run(bare).find("a")->error.find("gave the bare number 30, which is ambiguous") != std::string::npos);
}

TEST_CASE("original runs: a step output computes a later step's timeout in the original dialect") {
    fixture f;
    f.add(R"(
id: from-output
format: original
steps:
  - {id: plan, command: echo, output_variable: plan}
  - {id: work, command: sleep, timeout: "${plan.secs * 2}s"}
)");
    auto id = f.start("from-output");
    f.port.finish("j1", core::job_state::succeeded, {{"secs", 7}});
    REQUIRE(f.port.created.size() == 2);
    CHECK(f.port.spec(1).timeout_ms == 14'000);
    f.port.finish("j2", core::job_state::succeeded);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("original runs: inputs are bare names over workflow variables, and a step's output wins over both") {
    fixture f;
    f.add(R"(
id: bare
format: original
variables:
  region: eu
  service_name: from-variables
steps:
  - {id: first, command: echo, payload: "${service_name}/${region}/${config.url}", output_variable: service_name}
  - {id: second, command: echo, payload: "${service_name}"}
)");
    auto id = f.start("bare", {{"service_name", "api"}, {"config", {{"url", "http://hooks.local/x"}}}});
    REQUIRE(f.port.created.size() == 1);
    CHECK(f.port.spec(0).payload == "api/eu/http://hooks.local/x");
    f.port.finish("j1", core::job_state::succeeded, "the output");
    REQUIRE(f.port.created.size() == 2);
    CHECK(f.port.spec(1).payload == "the output");
    f.port.finish("j2", core::job_state::succeeded);
    CHECK(f.run(id).state == core::run_state::succeeded);
    // Our own format keeps inputs under inputs.*: a bare name there is only a variable.
    f.add("id: ours\nvariables: {region: eu}\nsteps:\n  - {id: a, command: echo, payload: \"${{ region }}\"}\n");
    f.start("ours", {{"region", "us"}});
    CHECK(f.port.spec(2).payload == "eu");
}

TEST_CASE("original runs: a pattern: job read as one result is one job on the pattern; read as a list, one per agent") {
    test::basic_fixture<two_agents_port> f;
    f.add(R"(
id: one
format: original
steps:
  - {id: check, command: update.check, pattern: "${input.agent_pattern}", output_variable: info}
  - {id: use, command: echo, condition: "${info.updateAvailable}", payload: "${info.version}"}
)");
    auto one = f.start("one", {{"agent_pattern", "web-b"}});
    REQUIRE(f.port.created.size() == 1);
    CHECK(f.port.spec(0).target.agent == "web-b");
    f.port.finish("j1", core::job_state::succeeded, {{"updateAvailable", true}, {"version", "2.0"}});
    REQUIRE(f.port.created.size() == 2);
    CHECK(f.port.spec(1).payload == "2.0");
    CHECK(f.rn->find_run(one)->find("check")->output == json{{"updateAvailable", true}, {"version", "2.0"}});
    f.add(R"(
id: many
format: original
steps:
  - {id: check, command: update.check, pattern: "*", output_variable: info}
  - {id: count, command: echo, payload: "${len(info)}"}
)");
    auto many = f.start("many", json::object());
    REQUIRE(f.port.created.size() == 4);  // one job per agent
    CHECK(f.port.spec(2).target.agent == "id-a");
    CHECK(f.port.spec(3).target.agent == "id-b");
    f.port.finish("j3", core::job_state::succeeded, "a");
    f.port.finish("j4", core::job_state::succeeded, "b");
    const auto& out = f.rn->find_run(many)->find("check")->output;
    REQUIRE(out.is_array());
    REQUIRE(out.size() == 2);
    CHECK(out[0]["status"] == "Completed");
    CHECK(out[1]["result"] == "b");
    REQUIRE(f.port.created.size() == 5);
    CHECK(f.port.spec(4).payload == 2);
}
