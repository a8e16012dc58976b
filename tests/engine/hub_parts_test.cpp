// The small pieces the hub is built from: the attempt fence, the circuit breaker, the waiter list.
#include <catch2/catch.hpp>

#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/circuit_breaker.hpp"
#include "engine/hub/waiter_list.hpp"

using namespace orbitmesh;

TEST_CASE("attempt fence: admits only the current attempt, in flight, on its agent") {
    core::job_record j;
    j.state = core::job_state::assigned;
    j.attempt = 2;
    j.agent_id = "a1";
    CHECK(engine::attempt_fence(2, "a1").admits(&j));
    CHECK(engine::attempt_fence(2).admits(&j));
    CHECK(engine::attempt_fence(2, "a1").admits_unacked(&j));
    CHECK_FALSE(engine::attempt_fence(1, "a1").admits(&j));
    CHECK_FALSE(engine::attempt_fence(2, "a2").admits(&j));
    CHECK_FALSE(engine::attempt_fence(2, "a1").admits(nullptr));
    j.state = core::job_state::running;
    CHECK(engine::attempt_fence(2, "a1").admits(&j));
    CHECK_FALSE(engine::attempt_fence(2, "a1").admits_unacked(&j));
    for (auto s : {core::job_state::pending, core::job_state::succeeded, core::job_state::failed, core::job_state::dead}) {
        j.state = s;
        CHECK_FALSE(engine::attempt_fence(2, "a1").admits(&j));
    }
}

TEST_CASE("circuit breaker: N failures in a row open it for the cool-down, a success resets the count") {
    engine::circuit_breaker b(3, 1'000);
    core::agent_record a;
    CHECK_FALSE(b.failure(a, 100));
    CHECK_FALSE(b.failure(a, 100));
    engine::circuit_breaker::success(a);
    CHECK_FALSE(b.failure(a, 100));
    CHECK_FALSE(b.failure(a, 100));
    CHECK_FALSE(engine::circuit_breaker::is_open(a, 100));
    CHECK(b.failure(a, 100));
    CHECK(engine::circuit_breaker::is_open(a, 100));
    CHECK(engine::circuit_breaker::is_open(a, 1'099));
    CHECK_FALSE(engine::circuit_breaker::is_open(a, 1'100));
    CHECK(a.consecutive_failures == 0);  // counting starts again after it opened
}

TEST_CASE("waiter list: a waiter is taken once, by its key's event or by its token's deadline") {
    engine::waiter_list<std::string> w;
    auto t1 = w.add("job-1", "first");
    auto t2 = w.add("job-1", "second");
    w.add("job-2", "other");
    CHECK(w.size() == 3);
    auto expired = w.take("job-1", t1);
    REQUIRE(expired);
    CHECK(*expired == "first");
    CHECK_FALSE(w.take("job-1", t1));  // already answered
    auto all = w.take_all("job-1");
    CHECK(all == std::vector<std::string>{"second"});
    CHECK_FALSE(w.take("job-1", t2));  // its deadline comes too late
    CHECK_FALSE(w.contains("job-1"));
    auto picked = w.take_if([](const std::string& s) { return s == "other"; });
    CHECK(picked == std::vector<std::string>{"other"});
    CHECK(w.size() == 0);
    w.add("k", "x");
    CHECK(w.drain().size() == 1);
    CHECK(w.size() == 0);
}
