// The hub's side of agents through fakes at its seams: NACKs, the circuit breaker, hello's
// reconciliation and what happens to work when an agent goes away.
#include "hub_test_support.hpp"

using namespace hub_test;

TEST_CASE("hub: a busy NACK requeues without blame and skips that agent for 500 ms") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    f.send(a1, p::nack{id, 1, "busy"});
    f.settle();
    CHECK(f.job(id).state == core::job_state::pending);
    CHECK(f.job(id).reassigns == 0);  // a NACK is not an agent loss
    CHECK(f.store.types(core::job_stream(id)).back() == "job.requeued");
    f.advance(499);
    CHECK(assigned_ids(*a1).size() == 1);
    f.advance(1);
    REQUIRE(assigned_ids(*a1).size() == 2);
    CHECK(f.job(id).attempt == 2);
    CHECK(f.agent("a1").at("consecutive_failures") == 0);
}

TEST_CASE("hub: any other NACK counts against the agent and keeps it off that job for 30 s") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    f.send(a1, p::nack{id, 1, "unknown command echo"});
    f.settle();
    CHECK(f.agent("a1").at("consecutive_failures") == 1);
    f.advance(29'000);
    CHECK(f.job(id).state == core::job_state::pending);
    const auto other = f.submit();  // the exclusion is for that job only
    CHECK(f.job(other).agent_id == "a1");
    f.run_ok(a1, other);
    f.advance(1'100);
    CHECK(f.job(id).agent_id == "a1");
    CHECK(f.job(id).attempt == 2);
}

TEST_CASE("hub: the circuit breaker takes an agent out of rotation for the cool-down") {
    auto opts = test_options();
    opts.breaker_threshold = 2;
    opts.breaker_cooldown_ms = 60'000;
    hub_fixture f(opts);
    f.start();
    auto a1 = f.connect("a1", 4);
    for (int i = 0; i < 2; ++i) {
        const auto id = f.submit();
        f.send(a1, p::ack{id, 1});
        f.send(a1, p::result{id, 1, "failed", std::nullopt, nullptr, "handler could not start"});  // no exit code
        f.settle();
        CHECK(f.job(id).state == core::job_state::failed);
    }
    CHECK(f.agent("a1").at("circuit") == "open");
    const auto waiting = f.submit();
    CHECK(f.job(waiting).state == core::job_state::pending);
    f.advance(59'000);
    CHECK(f.job(waiting).state == core::job_state::pending);
    f.advance(1'100);
    CHECK(f.job(waiting).agent_id == "a1");
    // A success resets the count: two more failures are needed to open it again.
    f.run_ok(a1, waiting);
    const auto next = f.submit();
    f.send(a1, p::ack{next, 1});
    f.send(a1, p::result{next, 1, "failed", std::nullopt, nullptr, "again"});
    f.settle();
    CHECK(f.agent("a1").at("consecutive_failures") == 1);
}

TEST_CASE("hub: hello reconciles: jobs the agent no longer holds are requeued, stale attempts get a cancel") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1", 2);
    const auto kept = f.submit();
    const auto forgotten = f.submit();
    for (const auto& id : {kept, forgotten}) f.send(a1, p::ack{id, 1});
    f.settle();
    f.disconnect(a1);
    f.advance(2'000);  // back within --reassign-after
    auto again = f.connect("a1", 2, {{kept, 1}, {"some-old-job", 3}});
    CHECK(f.job(kept).state == core::job_state::running);
    CHECK(f.job(kept).attempt == 1);
    CHECK(f.store.types(core::job_stream(forgotten)).at(3) == "job.requeued");
    auto cancels = again->of_type("cancel");
    REQUIRE(cancels.size() == 1);
    CHECK(cancels[0].at("job_id") == "some-old-job");
    CHECK(cancels[0].at("attempt") == 3);
    CHECK(cancels[0].at("reason") == "stale attempt");
    CHECK(f.job(forgotten).attempt == 2);  // dispatched again, to the agent that is back
    f.run_ok(again, kept);
    CHECK(f.job(kept).state == core::job_state::succeeded);
    f.advance(20'000);  // the reclaim deadline of the first connection finds nothing to do
    CHECK(f.job(kept).state == core::job_state::succeeded);
}

TEST_CASE("hub: a lost agent's jobs are reassigned after --reassign-after, or failed, or left waiting") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1", 3);
    auto spec = [](core::agent_lost_policy p) {
        auto s = echo_spec();
        s.on_agent_lost = p;
        return s;
    };
    const auto moved = f.submit(spec(core::agent_lost_policy::reassign));
    const auto failed = f.submit(spec(core::agent_lost_policy::fail));
    const auto waits = f.submit(spec(core::agent_lost_policy::wait));
    for (const auto& id : {moved, failed, waits}) f.send(a1, p::ack{id, 1});
    f.settle();
    f.disconnect(a1);
    auto a2 = f.connect("a2", 3);
    f.advance(9'999);
    CHECK(f.job(moved).state == core::job_state::running);
    f.advance(1);
    CHECK(f.job(moved).agent_id == "a2");
    CHECK(f.job(moved).attempt == 2);
    CHECK(f.job(moved).reassigns == 1);
    CHECK(f.job(failed).state == core::job_state::failed);
    CHECK(f.job(failed).error.find("agent_lost") != std::string::npos);
    f.advance(3'600'000);
    CHECK(f.job(waits).state == core::job_state::running);  // on_agent_lost: wait has no bound
    CHECK(f.job(waits).agent_id == "a1");
    auto back = f.connect("a1", 3, {{waits, 1}});
    f.send(back, p::result{waits, 1, "succeeded", 0, "waited", ""});
    f.settle();
    CHECK(f.job(waits).state == core::job_state::succeeded);
    CHECK(f.job(waits).output == "waited");
}

TEST_CASE("hub: a cancelled job that its agent refuses ends cancelled instead of running again") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    json reply;
    f.hub->cancel_job(id, "no longer needed", [&](engine::hub::outcome<json> o) { reply = o.value; });
    f.settle();
    REQUIRE(a1->of_type("cancel").size() == 1);
    f.send(a1, p::nack{id, 1, "draining"});
    f.settle();
    CHECK(f.job(id).state == core::job_state::cancelled);
    CHECK(assigned_ids(*a1).size() == 1);
}
