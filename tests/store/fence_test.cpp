// The shared store's attempt fence (store/postgres/fence.cpp, SPEC §10): the decisions that keep
// two hubs from assigning one attempt twice or recording a stale or second result. The database
// side (job_fence rows inside the append transaction) runs in tests/e2e/test_shared_store.py.
#include <catch2/catch.hpp>

#include "store/postgres/fence.hpp"

using orbitmesh::core::job_event_kind;
using orbitmesh::store::postgres::fence_facts;
using orbitmesh::store::postgres::fence_row;
using orbitmesh::store::postgres::fence_step;
using stage = fence_row::stage;

namespace {

fence_facts facts(job_event_kind k, int attempt = -1, std::string state = {}, bool agent_outcome = false) {
    fence_facts f;
    f.kind = k;
    f.attempt = attempt;
    f.final_state = std::move(state);
    f.agent_outcome = agent_outcome;
    return f;
}

}  // namespace

TEST_CASE("the fence refuses a second assignment of the same attempt", "[fence]") {
    std::string why;
    auto row = fence_step(std::nullopt, facts(job_event_kind::submitted), why);
    REQUIRE(row);
    auto first = fence_step(row, facts(job_event_kind::assigned, 1), why);
    REQUIRE(first);
    CHECK(first->attempt == 1);
    CHECK(first->at == stage::assigned);
    CHECK_FALSE(fence_step(first, facts(job_event_kind::assigned, 1), why));
    CHECK(why.find("not pending") != std::string::npos);
    // A hub that missed a requeue proposes the attempt another hub already took.
    auto requeued = fence_step(first, facts(job_event_kind::requeued, 1), why);
    REQUIRE(requeued);
    auto second = fence_step(requeued, facts(job_event_kind::assigned, 2), why);
    REQUIRE(second);
    CHECK_FALSE(fence_step(second, facts(job_event_kind::assigned, 2), why));
    CHECK_FALSE(fence_step(requeued, facts(job_event_kind::assigned, 1), why));
}

TEST_CASE("the fence refuses a stale result and a second result", "[fence]") {
    std::string why;
    const fence_row running{2, stage::running};
    CHECK_FALSE(fence_step(running, facts(job_event_kind::finished, 1, "succeeded", true), why));
    CHECK(why.find("not the current one") != std::string::npos);
    auto done = fence_step(running, facts(job_event_kind::finished, 2, "succeeded", true), why);
    REQUIRE(done);
    CHECK(done->at == stage::ended);
    CHECK_FALSE(fence_step(done, facts(job_event_kind::finished, 2, "succeeded", true), why));
    CHECK(why == "the job already ended");
    CHECK_FALSE(fence_step(done, facts(job_event_kind::retry_scheduled, 2), why));
    CHECK_FALSE(fence_step(done, facts(job_event_kind::requeued, 2), why));
    // A result of an attempt another hub requeued (the job is back in the queue) is stale.
    const fence_row queued{2, stage::pending};
    CHECK_FALSE(fence_step(queued, facts(job_event_kind::finished, 2, "failed", true), why));
    CHECK_FALSE(fence_step(queued, facts(job_event_kind::started, 2), why));
}

TEST_CASE("the fence lets queued jobs end without an agent and ended ones be retried", "[fence]") {
    std::string why;
    const fence_row queued{0, stage::pending};
    auto cancelled = fence_step(queued, facts(job_event_kind::finished, 0, "cancelled"), why);
    REQUIRE(cancelled);
    CHECK(cancelled->at == stage::ended);
    CHECK_FALSE(fence_step(cancelled, facts(job_event_kind::cancel_requested), why));
    auto retried = fence_step(cancelled, facts(job_event_kind::retried), why);
    REQUIRE(retried);
    CHECK(retried->at == stage::pending);
    CHECK_FALSE(fence_step(retried, facts(job_event_kind::retried), why));
    CHECK_FALSE(fence_step(queued, facts(job_event_kind::submitted), why));
}

TEST_CASE("a job from before the fence is taken as it comes", "[fence]") {
    std::string why;
    auto row = fence_step(std::nullopt, facts(job_event_kind::started, 3), why);
    REQUIRE(row);
    CHECK(row->attempt == 3);
    CHECK(row->at == stage::running);
}

TEST_CASE("the fence refuses every event of a job whose submission it never stored", "[fence]") {
    std::string why;
    auto unknown = facts(job_event_kind::assigned, 1);
    unknown.known = false;
    CHECK_FALSE(fence_step(std::nullopt, unknown, why));
    CHECK(why.find("not in the store") != std::string::npos);
    auto finished = facts(job_event_kind::finished, 1, "succeeded", true);
    finished.known = false;
    CHECK_FALSE(fence_step(std::nullopt, finished, why));
    auto submitted = facts(job_event_kind::submitted);
    submitted.known = false;
    CHECK(fence_step(std::nullopt, submitted, why));  // a new job has no events yet
}
