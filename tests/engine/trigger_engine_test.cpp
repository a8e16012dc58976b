// The trigger engine on a fake job_port and a manual clock: schedule fires recorded once, a
// restart that lost the last trigger.fired neither skips nor doubles it, max_concurrent, event
// triggers with filters, webhooks' signature, window and replays.
#include "runner_test_support.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/trigger_events.hpp"
#include "engine/workflow/trigger_engine.hpp"

using namespace orbitmesh;
using test::json;

namespace {

struct trigger_fixture : test::fixture {
    core::manual_clock clock;
    std::shared_ptr<engine::trigger_engine> te;
    trigger_fixture() {
        te = std::make_shared<engine::trigger_engine>(port, rn, clock);
        te->connect();
        te->recovered();
    }
    std::vector<core::event> of(std::string_view type) const {
        std::vector<core::event> out;
        for (const auto& e : port.log)
            if (e.type == type) out.push_back(e);
        return out;
    }
    void pass(std::int64_t ms) {
        clock.advance(ms);
        port.fire(ms);
    }
};

const char* tick_yaml = R"(
id: tick
triggers:
  - {id: every, type: schedule, interval: 1s, catch_up: all, max_concurrent: 100}
steps:
  - {id: t, type: transform, expression: "'x'"}
)";

}  // namespace

TEST_CASE("triggers: an interval fires once per interval, each fire time recorded with its run") {
    trigger_fixture f;
    f.add(tick_yaml);
    REQUIRE(f.of("trigger.armed").size() == 1);
    const auto anchor = f.of("trigger.armed")[0].data["anchor_ms"].get<std::int64_t>();
    f.pass(1000);
    f.pass(1000);
    auto fired = f.of("trigger.fired");
    REQUIRE(fired.size() == 2);
    CHECK(fired[0].data["fire_ms"] == anchor + 1000);
    CHECK(fired[1].data["fire_ms"] == anchor + 2000);
    const auto* run = f.rn->find_run(fired[1].data["run_id"].get<std::string>());
    REQUIRE(run != nullptr);
    CHECK(run->idempotency_key == "trigger:tick/every@" + std::to_string(anchor + 2000));
    auto listed = f.te->list("tick")["triggers"][0];
    CHECK(listed["fires"] == 2);
    CHECK(listed["last_outcome"] == "fired");
    CHECK(listed["next_fire"] == core::format_time(anchor + 3000));
}

TEST_CASE("triggers: a restart that lost the last trigger.fired finds its run again instead of starting another") {
    trigger_fixture f;
    f.add(tick_yaml);
    f.pass(1000);
    f.pass(1000);
    // The hub dies after the second run committed but before its trigger.fired did.
    std::size_t lost = 0;
    for (std::size_t i = 0; i < f.port.log.size(); ++i)
        if (f.port.log[i].type == "trigger.fired") lost = i;
    std::vector<core::event> kept;
    for (std::size_t i = 0; i < f.port.log.size(); ++i)
        if (i != lost) kept.push_back(f.port.log[i]);

    test::fake_port port2;
    auto rn2 = port2.runner = std::make_shared<engine::runner>(port2, [](std::function<void()> fn) { fn(); });
    auto te2 = std::make_shared<engine::trigger_engine>(port2, rn2, f.clock);
    te2->connect();
    for (const auto& e : kept) rn2->replay(e), te2->replay(e);
    rn2->recovered();
    te2->recovered();
    CHECK(rn2->list_runs(100, "")["runs"].size() == 2);  // no third run for the re-decided fire time
    int fired = 0, armed = 0;
    for (const auto& e : port2.log) fired += e.type == "trigger.fired", armed += e.type == "trigger.armed";
    CHECK(fired == 1);  // the lost one, recorded now
    CHECK(armed == 0);  // same definition: the anchor (and the phase) is kept
    CHECK(port2.log.back().data["fire_ms"] == f.of("trigger.fired").back().data["fire_ms"]);
}

TEST_CASE("triggers: max_concurrent skips a fire time while the trigger's runs are still running") {
    trigger_fixture f;
    f.add(R"(
id: slow
triggers:
  - {id: every, type: schedule, interval: 1s}
steps:
  - {id: j, run: sleep 100}
)");
    f.pass(1000);
    f.pass(1000);
    CHECK(f.of("trigger.fired").size() == 1);
    auto skipped = f.of("trigger.skipped");
    REQUIRE(skipped.size() == 1);
    CHECK(skipped[0].data["reason"] == "max_concurrent 1 reached");
}

TEST_CASE("triggers: an event starts the triggers whose type and filter match, mapping inputs") {
    trigger_fixture f;
    f.add(R"(
id: on-deploy
inputs: {version: {type: string, required: true}}
triggers:
  - {id: d, type: event, event_type: "deploy.*", filter: "data.env == 'prod'", input_mapping: {version: data.version}}
steps:
  - {id: t, type: transform, expression: inputs.version}
)");
    CHECK(f.te->on_event("deploy.done", {{"env", "dev"}, {"version", "1"}}, "") == 0);
    CHECK(f.te->on_event("build.done", {{"env", "prod"}, {"version", "1"}}, "") == 0);
    CHECK(f.te->on_event("deploy.done", {{"env", "prod"}, {"version", "2.0"}}, "") == 1);
    auto runs = f.rn->list_runs(10, "")["runs"];
    REQUIRE(runs.size() == 1);
    CHECK(runs[0]["inputs"] == json{{"version", "2.0"}});
}

TEST_CASE("triggers: a webhook needs the HMAC of its timestamp and body, fresh, once") {
    trigger_fixture f;
    f.add(R"(
id: hook
inputs: {ref: {type: string}}
triggers:
  - {id: push, type: webhook, secret: "0123456789abcdef-secret", input_mapping: {ref: body.ref}}
steps:
  - {id: t, type: transform, expression: inputs.ref}
)");
    const std::string body = R"({"ref": "main"})";
    const auto ts = std::to_string(f.clock.now_ms() / 1000);
    auto deliver = [&](const std::string& sig, const std::string& when) {
        int status = 0;
        json answer;
        try {
            f.te->webhook({"hook", "push", body, sig, when}, [&](int s, json b) { status = s, answer = std::move(b); });
        } catch (const orbitmesh::core::error& e) {
            return std::make_pair(core::http_status(e.kind()), json(e.what()));
        }
        return std::make_pair(status, answer);
    };
    const auto good = engine::webhook_signature("0123456789abcdef-secret", ts, body);
    CHECK(deliver(engine::webhook_signature("wrong", ts, body), ts).first == 401);
    const auto stale = std::to_string(f.clock.now_ms() / 1000 - 301);
    CHECK(deliver(engine::webhook_signature("0123456789abcdef-secret", stale, body), stale).first == 401);
    CHECK(deliver(good, ts + "0").first == 401);  // the timestamp is signed too
    CHECK(f.rn->list_runs(10, "")["runs"].empty());
    auto ok = deliver(good, ts);
    CHECK(ok.first == 202);
    CHECK(f.rn->find_run(ok.second["run_id"].get<std::string>())->inputs == json{{"ref", "main"}});
    CHECK(deliver(good, ts).first == 409);
    CHECK(f.rn->list_runs(10, "")["runs"].size() == 1);
}
