// The workflow runner against a fake job_port: no hub, no sockets, timers fired by the test.
#include "runner_test_support.hpp"

using namespace orbitmesh;
using core::json;
using test::fake_port;
using test::fixture;

namespace {

const char* diamond = R"(
id: diamond
steps:
  - id: a
    command: echo
    payload: a
  - id: b
    command: echo
    payload: b
  - id: c
    command: echo
    depends_on: [a, b]
    payload: "${{ steps.a.output }}+${{ steps.b.output }}"
)";

}  // namespace

TEST_CASE("runner: independent steps start together and a dependent waits for both") {
    fixture f;
    f.add(diamond);
    auto id = f.start("diamond");
    REQUIRE(f.port.created.size() == 2);
    f.port.finish("j1", core::job_state::succeeded, "A");
    CHECK(f.port.created.size() == 2);
    f.port.finish("j2", core::job_state::succeeded, "B");
    REQUIRE(f.port.created.size() == 3);
    CHECK(f.port.spec(2).payload == "A+B");
    f.port.finish("j3", core::job_state::succeeded, "C");
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: a failed attempt is retried as a new job, then succeeds") {
    fixture f;
    f.add("id: r\nsteps:\n  - id: a\n    command: echo\n    retry: {max: 2, delay: 1s}\n");
    auto id = f.start("r");
    f.port.finish("j1", core::job_state::failed, nullptr, "boom");
    CHECK(f.state(id, "a") == core::step_state::waiting);
    CHECK(f.port.created.size() == 1);
    f.port.fire(1000);
    REQUIRE(f.port.created.size() == 2);
    CHECK(f.port.spec(1).retries.max == 0);
    f.port.finish("j2", core::job_state::succeeded, "ok");
    CHECK(f.run(id).find("a")->attempts == 2);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: spent retries fail the run after compensating in reverse completion order") {
    fixture f;
    f.add(R"(
id: comp
steps:
  - id: first
    command: echo
    compensation: {command: echo, payload: undo-first}
  - id: second
    command: echo
    depends_on: [first]
    compensation: {command: echo, payload: undo-second}
  - id: third
    command: echo
    depends_on: [second]
    retry: {max: 1, delay: 1s}
)");
    auto id = f.start("comp");
    f.port.finish("j1", core::job_state::succeeded);
    f.port.finish("j2", core::job_state::succeeded);
    f.port.finish("j3", core::job_state::failed, nullptr, "bad");
    f.port.fire(1000);
    f.port.finish("j4", core::job_state::failed, nullptr, "still bad");
    REQUIRE(f.port.created.size() == 5);
    CHECK(f.port.spec(4).payload == "undo-second");
    f.port.finish("j5", core::job_state::succeeded);
    REQUIRE(f.port.created.size() == 6);
    CHECK(f.port.spec(5).payload == "undo-first");
    f.port.finish("j6", core::job_state::succeeded);
    const auto& r = f.run(id);
    CHECK(r.state == core::run_state::failed);
    CHECK(r.error.find("step third failed") != std::string::npos);
    REQUIRE(r.compensations.size() == 2);
    CHECK(r.compensations[0].step == "second");
    CHECK(r.compensations[1].state == "succeeded");
    CHECK(f.state(id, "first") == core::step_state::compensated);
}

TEST_CASE("runner: a step past its timeout is cancelled and ends timed_out") {
    fixture f;
    f.add("id: t\nsteps:\n  - id: slow\n    command: sleep\n    timeout: 5s\n");
    auto id = f.start("t");
    f.port.fire(5000);
    CHECK(f.port.cancelled == std::vector<std::string>{"j1"});
    CHECK(f.state(id, "slow") == core::step_state::timed_out);
    CHECK(f.run(id).state == core::run_state::failed);
}

TEST_CASE("runner: a run past its timeout cancels its jobs and ends timed_out") {
    fixture f;
    f.add("id: rt\ntimeout: 1m\nsteps:\n  - id: slow\n    command: sleep\n");
    auto id = f.start("rt");
    f.port.fire(60'000);
    CHECK(f.port.cancelled == std::vector<std::string>{"j1"});
    f.port.finish("j1", core::job_state::cancelled);
    CHECK(f.run(id).state == core::run_state::timed_out);
    CHECK(f.state(id, "slow") == core::step_state::cancelled);
}

TEST_CASE("runner: cancelling a run mid-way cancels the running job") {
    fixture f;
    f.add(diamond);
    auto id = f.start("diamond");
    f.port.finish("j1", core::job_state::succeeded);
    int status = 0;
    f.rn->cancel_run(id, "stop", [&](int s, json) { status = s; });
    CHECK(status == 200);
    CHECK(f.port.cancelled == std::vector<std::string>{"j2"});
    f.port.finish("j2", core::job_state::cancelled);
    CHECK(f.run(id).state == core::run_state::cancelled);
    CHECK(f.port.created.size() == 2);
}

TEST_CASE("runner: a false condition skips the step and its dependents still run") {
    fixture f;
    f.add(R"(
id: cond
inputs:
  deploy: {type: boolean, default: false}
steps:
  - id: a
    command: echo
    condition: inputs.deploy
  - id: b
    command: echo
    depends_on: [a]
)");
    auto id = f.start("cond");
    CHECK(f.state(id, "a") == core::step_state::skipped);
    REQUIRE(f.port.created.size() == 1);
    f.port.finish("j1", core::job_state::succeeded);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: continue_on_error lets the run go on after a failed step") {
    fixture f;
    f.add("id: coe\nsteps:\n  - id: a\n    command: echo\n    continue_on_error: true\n"
          "  - id: b\n    command: echo\n    depends_on: [a]\n");
    auto id = f.start("coe");
    f.port.finish("j1", core::job_state::failed, nullptr, "meh");
    REQUIRE(f.port.created.size() == 2);
    f.port.finish("j2", core::job_state::succeeded);
    CHECK(f.state(id, "a") == core::step_state::failed);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: foreach runs its steps once per item with item and index") {
    fixture f;
    f.add(R"(
id: each
steps:
  - id: loop
    type: foreach
    collection: [x, y]
    max_concurrency: 2
    steps:
      - id: put
        command: echo
        payload: "${{ index }}:${{ item }}"
)");
    auto id = f.start("each");
    REQUIRE(f.port.created.size() == 2);
    CHECK(f.port.spec(0).payload == "0:x");
    CHECK(f.port.spec(1).payload == "1:y");
    f.port.finish("j1", core::job_state::succeeded, "X");
    f.port.finish("j2", core::job_state::succeeded, "Y");
    CHECK(f.run(id).find("loop")->output == json::array({"X", "Y"}));
    CHECK(f.state(id, "loop[1]/put") == core::step_state::succeeded);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: a transform's output reaches a later step's payload") {
    fixture f;
    f.add(R"(
id: tr
inputs:
  n: {type: integer, default: 20}
steps:
  - id: a
    type: transform
    expression: inputs.n + 1
  - id: b
    command: echo
    depends_on: [a]
    payload: {value: "${{ steps.a.output }}"}
)");
    auto id = f.start("tr");
    REQUIRE(f.port.created.size() == 1);
    CHECK(f.port.spec(0).payload == json{{"value", 21}});
    f.port.finish("j1", core::job_state::succeeded);
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: after a crash, replayed runs continue without recreating finished steps' jobs") {
    fixture f;
    f.add(diamond);
    auto id = f.start("diamond");
    f.port.finish("j1", core::job_state::succeeded, "A");
    // "Crash": a new runner over the same jobs, fed the recorded events.
    fake_port port2;
    port2.jobs = f.port.jobs;
    port2.next = f.port.next;
    auto rn2 = std::make_shared<engine::runner>(port2, [](std::function<void()> fn) { fn(); });
    port2.runner = rn2;
    for (const auto& e : f.port.log) rn2->replay(e);
    rn2->recovered();
    CHECK(port2.created.empty());
    port2.finish("j2", core::job_state::succeeded, "B");
    REQUIRE(port2.created.size() == 1);
    CHECK(port2.jobs.at(port2.created[0]).spec.payload == "A+B");
    port2.finish(port2.created[0], core::job_state::succeeded);
    CHECK(rn2->find_run(id)->state == core::run_state::succeeded);
}

TEST_CASE("runner: a job that ended while the hub was down settles on recovery") {
    fixture f;
    f.add("id: one\nsteps:\n  - id: a\n    command: echo\n");
    auto id = f.start("one");
    fake_port port2;
    port2.jobs = f.port.jobs;
    port2.jobs.at("j1").state = core::job_state::succeeded;
    auto rn2 = std::make_shared<engine::runner>(port2, [](std::function<void()> fn) { fn(); });
    for (const auto& e : f.port.log) rn2->replay(e);
    rn2->recovered();
    CHECK(rn2->find_run(id)->state == core::run_state::succeeded);
    CHECK(port2.created.empty());
}

TEST_CASE("runner: a delay waits durably and an event wakes a matching wait") {
    fixture f;
    f.add(R"(
id: waits
steps:
  - id: pause
    type: delay
    duration: 30s
  - id: hook
    type: wait_for_event
    depends_on: [pause]
    event_type: deployed
    correlation_key: "${{ run.id }}"
)");
    auto id = f.start("waits");
    CHECK(f.state(id, "pause") == core::step_state::waiting);
    f.port.fire(30'000);
    CHECK(f.state(id, "hook") == core::step_state::waiting);
    json reply;
    f.rn->post_event("deployed", {{"ok", true}}, "other", [&](int, json b) { reply = b; });
    CHECK(reply["matched"] == 0);
    f.rn->post_event("deployed", {{"ok", true}}, id, [&](int, json b) { reply = b; });
    CHECK(reply["matched"] == 1);
    CHECK(f.run(id).find("hook")->output == json{{"ok", true}});
    CHECK(f.run(id).state == core::run_state::succeeded);
}

TEST_CASE("runner: the events feed lists run and step events in order") {
    fixture f;
    f.add("id: one\nsteps:\n  - id: a\n    command: echo\n");
    auto id = f.start("one");
    json held;
    f.rn->run_events(id, 2, 10'000, [&](int, json b) { held = b; });
    CHECK(held.is_null());  // held until something new happens
    f.port.finish("j1", core::job_state::succeeded, "out");
    REQUIRE(held["events"].size() >= 1);
    CHECK(held["events"][0]["type"] == "step.finished");
    CHECK(held["events"][0]["step"] == "a");
    json rest;
    f.rn->run_events(id, held["next"].get<std::int64_t>(), 10'000, [&](int, json b) { rest = b; });
    CHECK(rest["events"].back()["type"] == "run.finished");
    CHECK(rest["done"] == true);
}
