// The hub's delivery rules through fakes at its seams: commit, then tell; fence by attempt.
#include "hub_test_support.hpp"

using namespace hub_test;

TEST_CASE("hub: a submit is answered only once its job.submitted event is committed") {
    hub_fixture f;
    f.start();
    bool answered = false;
    std::string id;
    f.hub->submit({echo_spec()}, [&](engine::hub::outcome<json> o, bool created) {
        answered = true;
        CHECK(created);
        id = o.value.at(0).at("id").get<std::string>();
    });
    f.run_uncommitted();
    CHECK_FALSE(answered);
    REQUIRE(f.store.waiting() == 1);
    f.store.complete_next();
    f.poll();
    REQUIRE(answered);
    CHECK(f.store.types(core::job_stream(id)) == std::vector<std::string>{"job.submitted"});
}

TEST_CASE("hub: assign goes out only after job.assigned is committed, result_ack only after the result") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    bool answered = false;
    f.hub->submit({echo_spec()}, [&](engine::hub::outcome<json>, bool) { answered = true; });
    f.run_uncommitted();  // submit, then dispatch in the same strand turn: one group, not yet committed
    REQUIRE(f.store.waiting() == 1);
    CHECK_FALSE(answered);
    CHECK(a1->of_type("assign").empty());
    f.store.complete_next();
    f.poll();
    CHECK(answered);
    auto assigns = a1->of_type("assign");
    REQUIRE(assigns.size() == 1);
    const auto id = assigns[0].at("job_id").get<std::string>();
    CHECK(assigns[0].at("attempt") == 1);

    f.send(a1, p::ack{id, 1});
    f.send(a1, p::result{id, 1, "succeeded", 0, "out", ""});
    f.run_uncommitted();
    CHECK(a1->of_type("result_ack").empty());
    f.store.complete_all();
    f.poll();
    auto acks = a1->of_type("result_ack");
    REQUIRE(acks.size() == 1);
    CHECK_FALSE(acks[0].contains("rejected"));
    CHECK(f.store.types(core::job_stream(id)) ==
          std::vector<std::string>{"job.submitted", "job.assigned", "job.started", "job.finished"});
    CHECK(f.job(id).state == core::job_state::succeeded);
    CHECK(f.job(id).output == "out");
}

TEST_CASE("hub: ack, output, progress and result of another attempt or agent are fenced off") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    auto a2 = f.connect("a2");
    const auto id = f.submit();
    auto owner = assigned_ids(*a1).empty() ? a2 : a1;
    auto other = owner == a1 ? a2 : a1;
    REQUIRE(assigned_ids(*owner) == std::vector<std::string>{id});

    f.send(other, p::ack{id, 1});
    f.send(owner, p::ack{id, 2});
    f.settle();
    CHECK(f.job(id).state == core::job_state::assigned);

    f.send(owner, p::ack{id, 1});
    f.send(other, p::output{id, 1, 1, "stdout", "from the wrong agent"});
    f.send(owner, p::output{id, 2, 1, "stdout", "from the wrong attempt"});
    f.send(owner, p::progress{id, 2, 50, "wrong attempt"});
    f.send(owner, p::output{id, 1, 1, "stdout", "right"});
    f.send(owner, p::progress{id, 1, 40, "right"});
    f.settle();
    CHECK(f.job(id).state == core::job_state::running);
    REQUIRE(f.store.committed_logs.size() == 1);
    CHECK(f.store.committed_logs[0].data == "right");
    CHECK(f.job(id).progress_percent == 40);

    f.send(owner, p::result{id, 2, "succeeded", 0, "stale", ""});
    f.send(other, p::result{id, 1, "succeeded", 0, "stranger", ""});
    f.settle();
    REQUIRE(owner->of_type("result_ack").size() == 1);
    CHECK(owner->of_type("result_ack")[0].value("rejected", false));
    REQUIRE(other->of_type("result_ack").size() == 1);
    CHECK(other->of_type("result_ack")[0].value("rejected", false));
    CHECK(f.job(id).state == core::job_state::running);

    f.send(owner, p::result{id, 1, "succeeded", 0, "right", ""});
    f.send(owner, p::result{id, 1, "succeeded", 0, "resent from the outbox", ""});
    f.settle();
    auto acks = owner->of_type("result_ack");
    REQUIRE(acks.size() == 3);
    CHECK_FALSE(acks[1].contains("rejected"));
    CHECK_FALSE(acks[2].contains("rejected"));  // a duplicate of the recorded attempt: dropped, not rejected
    CHECK(f.job(id).output == "right");
    CHECK(f.store.types(core::job_stream(id)).back() == "job.finished");
    CHECK(f.store.types(core::job_stream(id)).size() == 4);
}

TEST_CASE("hub: an assign not ACKed in time goes to another agent as the next attempt") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    const auto id = f.submit();
    REQUIRE(assigned_ids(*a1).size() == 1);
    auto a2 = f.connect("a2");
    f.advance(9'999);
    CHECK(f.job(id).attempt == 1);
    f.advance(1);
    CHECK(f.job(id).attempt == 2);
    CHECK(f.job(id).agent_id == "a2");  // a1 is kept out of this job's way
    CHECK(f.job(id).reassigns == 1);
    REQUIRE(a2->of_type("assign").size() == 1);
    CHECK(a2->of_type("assign")[0].at("attempt") == 2);

    f.send(a1, p::ack{id, 1});  // too late: the fence keeps attempt 1 out
    f.send(a1, p::result{id, 1, "succeeded", 0, "late", ""});
    f.settle();
    CHECK(a1->of_type("result_ack").at(0).value("rejected", false));
    f.run_ok(a2, id, 2);
    CHECK(f.job(id).state == core::job_state::succeeded);
    CHECK(f.job(id).output == "done");
    CHECK(f.agent("a1").at("consecutive_failures") == 1);  // no ACK counts against the agent
}

TEST_CASE("hub: a failed commit stops the hub and nothing unrecorded is answered") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    bool answered = false;
    f.hub->submit({echo_spec()}, [&](engine::hub::outcome<json>, bool) { answered = true; });
    f.run_uncommitted();
    f.store.fail_next();
    f.poll();
    CHECK_FALSE(answered);
    CHECK(f.hub->failed());
    CHECK(f.io.stopped());
    CHECK(a1->of_type("assign").empty());
}
