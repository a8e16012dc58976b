// One bad peer, one bug or one bad event never stops the hub: the last guard on its strand,
// 500 internal on HTTP, and recovery that skips what does not apply.
#include "hub_test_support.hpp"

#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "engine/auth/authenticator.hpp"
#include "engine/hub/route_table.hpp"
#include "engine/hub/mesh_intake.hpp"
#include "engine/serve/http_front.hpp"

using namespace hub_test;

namespace {

/// An observer whose job_ended throws, like a bug in the workflow runner would.
struct throwing_observer final : engine::job_observer {
    int ended = 0;
    void replay(const core::event&) override {}
    void recovered() override {}
    void job_ended(const core::job_record&) override {
        ++ended;
        throw std::logic_error("observer bug");
    }
    void job_output(const store::log_line&) override {}
};

core::event job_event_at(std::int64_t seq, const std::string& id, std::int64_t version, std::string_view type, json data) {
    auto e = core::make_event(core::job_stream(id), version - 1, type, std::move(data));
    e.seq = seq;
    return e;
}

}  // namespace

TEST_CASE("hub: /mesh messages are parsed at the edge, and one that does not parse closes its connection with 1007") {
    hub_fixture f;
    f.start();
    auto mesh = engine::make_mesh_handler(f.hub);
    auto good = f.connect("a1");
    auto bad = std::make_shared<recording_peer>(50);
    mesh.on_open(bad);
    f.poll();
    mesh.on_message(bad, {{"t", "heartbeat"}, {"load", {{"cpu", "lots"}}}});
    REQUIRE(bad->closed);
    CHECK(bad->closed->first == core::protocol::close_invalid);
    CHECK(bad->closed->second == "heartbeat field \"load.cpu\" must be a number, got a string");
    mesh.on_message(good, {{"t", "heartbeat"}, {"load", {{"cpu", 0.75}, {"mem", 0.5}}}});
    f.settle();
    CHECK_FALSE(good->closed);
    CHECK(f.agent("a1").at("load").at("cpu") == 0.75);
}

TEST_CASE("hub guard: an exception while handling one agent's message closes that connection only") {
    hub_fixture f;
    f.start();
    auto bad = std::make_shared<recording_peer>(99);
    bad->throw_on_send = true;
    f.hub->on_open(bad);
    f.poll();
    f.send(bad, hello_of("a-bad"));
    f.settle();
    REQUIRE(bad->closed);
    CHECK(bad->closed->first == core::protocol::close_internal);
    CHECK(bad->closed->second == "internal error handling hello; the hub logged the details");
    f.disconnect(bad);  // what the transport does once the close is sent
    auto good = f.connect("a-good");
    const auto id = f.submit();
    f.run_ok(good, id);
    CHECK(f.job(id).state == core::job_state::succeeded);
}

TEST_CASE("hub guard: a request whose store read fails gets that error, and the hub carries on") {
    hub_fixture f;
    f.start();
    const auto id = f.submit();
    f.store.fail_reads = true;
    std::optional<core::error> failure;
    f.hub->job_logs(id, 0, 0, 100, [&](engine::hub::outcome<json> o) { failure = o.error; });
    f.settle();
    REQUIRE(failure);
    CHECK(failure->kind() == core::error_kind::storage);
    f.store.fail_reads = false;
    json rec;
    f.hub->get_job(id, 0, [&](engine::hub::outcome<json> o) { rec = o.value; });
    f.settle();
    CHECK(rec.at("state") == "pending");
}

TEST_CASE("hub guard: a throwing job observer is logged, waiters and later jobs are still answered") {
    hub_fixture f;
    auto observer = std::make_shared<throwing_observer>();
    f.hub->attach(observer);
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    json waited;
    f.hub->get_job(id, 30'000, [&](engine::hub::outcome<json> o) { waited = o.value; });
    f.settle();
    f.run_ok(a1, id);
    CHECK(observer->ended == 1);
    CHECK(waited.at("state") == "succeeded");
    CHECK(a1->of_type("result_ack").size() == 1);
    const auto next = f.submit();
    f.run_ok(a1, next);
    CHECK(f.job(next).state == core::job_state::succeeded);
}

TEST_CASE("hub guard: an unexpected exception in an HTTP route is 500 internal without the library's text") {
    auto table = std::make_shared<engine::route_table>();
    table->add("GET", "/api/v1/boom", {core::role::admin},
               [](const transport::http_request&, const engine::route_params&, const core::principal&,
                  transport::http_reply) { throw std::runtime_error("[json.exception.type_error.302] secret"); });
    engine::auth::authenticator::options o;  // --auth none: everyone is the open admin principal
    auto authn = std::make_shared<engine::auth::authenticator>(o, nullptr,
                                                               std::make_shared<engine::auth::revocation_list>());
    auto door = engine::make_front_door(table, authn);
    transport::http_request req;
    req.method = "GET";
    req.path = "/api/v1/boom";
    req.remote = "127.0.0.1:5000";
    transport::http_response res;
    door.handler(req, [&](transport::http_response r) { res = std::move(r); });
    CHECK(res.status == 500);
    auto body = json::parse(res.body);
    CHECK(body.at("error") == "internal");
    CHECK(body.at("message") == "internal error handling GET /api/v1/boom; the hub logged the details");
    CHECK(res.body.find("json.exception") == std::string::npos);
}

TEST_CASE("hub recovery: an event that does not apply is skipped, and the stream's next event follows it") {
    core::job_spec spec = echo_spec("kept");
    std::vector<core::event> log{
        job_event_at(1, "j1", 1, core::job_event::submitted, {{"id", "j1"}, {"spec", core::to_json(spec)}}),
        job_event_at(2, "j1", 2, core::job_event::assigned, {{"attempt", "1"}, {"agent_id", 5}}),  // malformed
        job_event_at(3, "j2", 1, core::job_event::submitted, {{"id", "j2"}, {"spec", {{"command", 7}}}}),
        job_event_at(4, "j3", 1, core::job_event::started, {{"attempt", 1}}),  // no job.submitted before it
    };
    hub_fixture f(test_options(), log);
    f.start();
    CHECK(f.job("j1").state == core::job_state::pending);
    CHECK(f.job("j1").version == 2);
    CHECK(f.hub->jobs().job("j2") == nullptr);
    CHECK(f.hub->jobs().job("j3") == nullptr);
    auto a1 = f.connect("a1");
    f.run_ok(a1, "j1");
    auto events = f.store.stream(core::job_stream("j1"));
    REQUIRE(events.size() == 3);
    CHECK(events[0].version == 3);  // after the skipped version 2, not on top of it
    CHECK(events[0].type == "job.assigned");
    CHECK(f.job("j1").state == core::job_state::succeeded);
}

TEST_CASE("hub: shutdown answers held requests with 503 instead of leaving them hanging") {
    hub_fixture f;
    f.start();
    const auto id = f.submit();
    std::optional<core::error> job_wait, log_wait;
    f.hub->get_job(id, 60'000, [&](engine::hub::outcome<json> o) { job_wait = o.error; });
    f.hub->job_logs(id, 0, 60'000, 100, [&](engine::hub::outcome<json> o) { log_wait = o.error; });
    f.settle();
    CHECK_FALSE(job_wait);
    f.hub->shutdown();
    f.settle();
    REQUIRE(job_wait);
    CHECK(job_wait->kind() == core::error_kind::unavailable);
    REQUIRE(log_wait);
    CHECK(log_wait->kind() == core::error_kind::unavailable);
}

TEST_CASE("hub: a held GET ?wait= is answered by its deadline or by the job's end, once") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    int answers = 0;
    json last;
    auto wait = [&](std::int64_t ms) {
        f.hub->get_job(id, ms, [&](engine::hub::outcome<json> o) {
            ++answers;
            last = o.value;
        });
        f.settle();
    };
    wait(5'000);
    f.advance(4'999);
    CHECK(answers == 0);
    f.advance(1);
    CHECK(answers == 1);
    CHECK(last.at("state") == "assigned");
    wait(5'000);
    f.run_ok(a1, id);
    CHECK(answers == 2);
    CHECK(last.at("state") == "succeeded");
    f.advance(10'000);  // its deadline finds nothing left to answer
    CHECK(answers == 2);
}
