#include <catch2/catch.hpp>

#include <optional>

#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/job_machine.hpp"
#include "core/job_text.hpp"

using namespace orbitmesh::core;

namespace {

const job_state all_states[] = {job_state::pending,   job_state::assigned, job_state::running,   job_state::succeeded,
                                job_state::failed,    job_state::cancelled, job_state::timed_out, job_state::dead};

/// A record in state `from` (nullopt: a job that does not exist yet) at attempt 2.
job_record record_in(std::optional<job_state> from) {
    job_record r;
    if (!from) return r;
    r.id = "j1";
    r.spec.command = "echo";
    r.state = *from;
    r.attempt = 2;
    r.version = 5;
    r.agent_id = *from == job_state::assigned || *from == job_state::running ? "a1" : "";
    return r;
}

/// An event of `kind` for a job at attempt 2 that the fence accepts; `to` is job.finished's target.
event event_of(job_event_kind kind, job_state to) {
    event e;
    e.stream = "job-j1";
    e.version = 6;
    e.type = std::string(to_string(kind));
    e.time_ms = 1'700'000'000'000;
    e.data = json{{"attempt", kind == job_event_kind::assigned ? 3 : 2}};
    if (kind == job_event_kind::submitted) e.data = {{"id", "j1"}, {"spec", {{"command", "echo"}}}};
    if (kind == job_event_kind::assigned) e.data["agent_id"] = "a1";
    if (kind == job_event_kind::finished) e.data["state"] = std::string(to_string(to));
    if (kind == job_event_kind::requeued) e.data["reason"] = "agent_lost";
    return e;
}

std::string state_name(std::optional<job_state> s) { return s ? std::string(to_string(*s)) : "(none)"; }

}  // namespace

TEST_CASE("job machine: every event name parses back to its kind, and nothing else does") {
    for (std::size_t i = 0; i < job_event_kind_count; ++i) {
        auto kind = static_cast<job_event_kind>(i);
        CHECK(parse_job_event_kind(to_string(kind)) == kind);
    }
    CHECK_FALSE(parse_job_event_kind("job.exploded"));
    CHECK_FALSE(parse_job_event_kind("agent.connected"));
    CHECK_FALSE(parse_job_event_kind(""));
}

TEST_CASE("job machine: the fold accepts exactly the table's transitions and lands where the table says") {
    std::vector<std::optional<job_state>> froms{std::nullopt};
    for (auto s : all_states) froms.emplace_back(s);
    int allowed = 0, refused = 0;
    for (const auto& from : froms) {
        for (std::size_t i = 0; i < job_event_kind_count; ++i) {
            const auto kind = static_cast<job_event_kind>(i);
            for (auto to : all_states) {
                // Only job.finished names its target; for the others `to` is what the table says.
                if (kind != job_event_kind::finished && job_transition_target(from, kind) != to &&
                    !(job_transition_target(from, kind) == std::nullopt && to == job_state::pending))
                    continue;
                const bool in_table = job_transition_allowed(from, kind, to);
                auto r = record_in(from);
                const auto before = to_json_text(r);
                INFO(state_name(from) << " --" << to_string(kind) << "--> " << to_string(to));
                if (in_table) {
                    REQUIRE_NOTHROW(apply(r, event_of(kind, to)));
                    CHECK(r.state == to);
                    CHECK(r.version == 6);
                    ++allowed;
                } else {
                    CHECK_THROWS_AS(apply(r, event_of(kind, to)), error);
                    CHECK(to_json_text(r) == before);  // refused: nothing changed
                    ++refused;
                }
            }
        }
    }
    CHECK(allowed == static_cast<int>(job_transitions().size()));
    CHECK(refused > 0);
}

TEST_CASE("job machine: a refused transition names the job, the event and the state") {
    auto r = record_in(job_state::succeeded);
    try {
        apply(r, event_of(job_event_kind::assigned, job_state::assigned));
        FAIL("a finished job was assigned");
    } catch (const error& e) {
        CHECK(e.kind() == error_kind::conflict);
        CHECK(std::string(e.what()) == "job j1: event job.assigned is not allowed in state succeeded "
                                       "(the state machine has no such transition)");
    }
}

TEST_CASE("job machine: the attempt fence refuses stale attempts on every fenced event") {
    for (auto kind : {job_event_kind::started, job_event_kind::finished, job_event_kind::retry_scheduled,
                      job_event_kind::requeued}) {
        auto r = record_in(kind == job_event_kind::started ? job_state::assigned : job_state::running);
        auto e = event_of(kind, job_state::succeeded);
        e.data["attempt"] = 1;
        INFO(to_string(kind));
        CHECK_THROWS_WITH(apply(r, e), Catch::Contains("stale attempt"));
    }
    auto r = record_in(job_state::pending);
    auto e = event_of(job_event_kind::assigned, job_state::assigned);
    e.data["attempt"] = 2;
    CHECK_THROWS_WITH(apply(r, e), Catch::Contains("attempt numbers only grow"));
}

TEST_CASE("job machine: an event for a job that was never submitted is refused") {
    job_record r;
    CHECK_THROWS_WITH(apply(r, event_of(job_event_kind::started, job_state::running)),
                      Catch::Contains("job does not exist"));
    CHECK(r.version == 0);
}
