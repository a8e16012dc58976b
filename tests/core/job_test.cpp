#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/job_events.hpp"

using namespace orbitmesh::core;

namespace {

job_record submitted(const std::string& id = "j1") {
    job_record r;
    job_spec spec;
    spec.command = "echo";
    spec.payload = "hi";
    r.id = id;
    apply(r, make_job_event(r, job_event::submitted, {{"id", id}, {"spec", to_json(spec)}}));
    return r;
}

void step(job_record& r, std::string_view type, json data) { apply(r, make_job_event(r, type, std::move(data))); }

}  // namespace

TEST_CASE("job events: submit, assign, start and finish fold into a succeeded record") {
    auto r = submitted();
    CHECK(r.state == job_state::pending);
    step(r, job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}, {"agent_name", "alpha"}});
    step(r, job_event::started, {{"attempt", 1}});
    step(r, job_event::finished, {{"attempt", 1}, {"state", "succeeded"}, {"exit_code", 0}, {"output", "hi"}, {"error", ""}});
    CHECK(r.state == job_state::succeeded);
    CHECK(r.attempt == 1);
    CHECK(r.output == "hi");
    CHECK(r.version == 4);
}

TEST_CASE("job events: a result for a stale attempt is an illegal transition and changes nothing") {
    auto r = submitted();
    step(r, job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}});
    step(r, job_event::requeued, {{"attempt", 1}, {"reason", "agent_lost"}, {"counts", true}});
    step(r, job_event::assigned, {{"attempt", 2}, {"agent_id", "a2"}});
    auto before = to_json(r);
    CHECK_THROWS_AS(step(r, job_event::finished, {{"attempt", 1}, {"state", "succeeded"}}), error);
    CHECK(to_json(r) == before);
    CHECK(r.reassigns == 1);
}

TEST_CASE("job events: a retry returns the job to pending and spends one retry; reassignment does not") {
    auto r = submitted();
    step(r, job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}});
    step(r, job_event::retry_scheduled, {{"attempt", 1}, {"not_before", 5}, {"exit_code", 1}});
    CHECK(r.state == job_state::pending);
    CHECK(r.retries_used == 1);
    CHECK(r.reassigns == 0);
    step(r, job_event::assigned, {{"attempt", 2}, {"agent_id", "a1"}});
    step(r, job_event::requeued, {{"attempt", 2}, {"reason", "busy"}, {"counts", false}});
    CHECK(r.reassigns == 0);
    CHECK(r.retries_used == 1);
}

TEST_CASE("job events: ended jobs cannot be finished again; failed ones can be retried by hand") {
    auto r = submitted();
    step(r, job_event::finished, {{"attempt", 0}, {"state", "cancelled"}});
    CHECK(r.state == job_state::cancelled);
    CHECK_THROWS_AS(step(r, job_event::finished, {{"attempt", 0}, {"state", "cancelled"}}), error);
    step(r, job_event::retried, json::object());
    CHECK(r.state == job_state::pending);
}

TEST_CASE("job spec: JSON form with durations, retries as a count and handler aliases") {
    auto s = job_spec_from_json({{"command", "orbit:system:info"}, {"timeout", "30s"}, {"retries", 2}});
    CHECK(s.command == "system.info");
    CHECK(s.timeout_ms == 30'000);
    CHECK(s.retries.max == 2);
    CHECK_THROWS_AS(job_spec_from_json({{"command", "echo"}, {"timeout", "30"}}), error);
    CHECK_THROWS_AS(job_spec_from_json({{"command", ""}}), error);
    CHECK_THROWS_AS(job_spec_from_json({{"command", "echo"}, {"mode", "sometimes"}}), error);
}

TEST_CASE("job record: JSON round trip keeps state, attempt and agent") {
    auto r = submitted();
    step(r, job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}, {"agent_name", "alpha"}});
    auto back = job_record_from_json(to_json(r));
    CHECK(back.id == r.id);
    CHECK(back.state == job_state::assigned);
    CHECK(back.agent_name == "alpha");
    CHECK(to_json(back) == to_json(r));
}

TEST_CASE("job events: a field of the wrong type throws naming it and leaves the record untouched") {
    auto r = submitted();
    const auto before = to_json(r);
    auto reason = [&](std::string_view type, json data) -> std::string {
        try {
            step(r, type, std::move(data));
        } catch (const error& e) {
            return e.what();
        }
        return "applied";
    };
    CHECK(reason(job_event::assigned, {{"attempt", 1}, {"agent_id", 7}}) ==
          "job.assigned field \"agent_id\" must be a string, got an integer");
    CHECK(reason(job_event::assigned, {{"attempt", "1"}, {"agent_id", "a1"}}) ==
          "job.assigned field \"attempt\" must be an integer of at least 1, got a string");
    CHECK(to_json(r) == before);
    step(r, job_event::assigned, {{"attempt", 1}, {"agent_id", "a1"}});
    const auto assigned = to_json(r);
    CHECK(reason(job_event::finished, {{"attempt", 1}, {"state", "failed"}, {"error", 5}}) ==
          "job.finished field \"error\" must be a string, got an integer");
    CHECK(reason(job_event::requeued, {{"attempt", 1}, {"counts", "yes"}}) ==
          "job.requeued field \"counts\" must be true or false, got a string");
    CHECK(to_json(r) == assigned);
}

TEST_CASE("job spec from a client: a field that is not part of a spec is refused, named, with a hint") {
    json spec = {{"command", "echo"}, {"payload", "x"}, {"priorty", 3}};
    try {
        job_spec_from_request(spec);
        FAIL("accepted");
    } catch (const error& e) {
        CHECK(e.kind() == error_kind::invalid_input);
        CHECK(std::string(e.what()) == "job field \"priorty\" is not supported (did you mean \"priority\"?)");
    }
    spec.erase("priorty");
    spec["limits"] = {{"pids", 4}};
    spec["timeout"] = "5s";
    CHECK(job_spec_from_request(spec).limits.pids == 4);
    // Stored records carry id, state, … beside the spec: their reader stays lenient.
    CHECK(job_spec_from_json(json{{"command", "echo"}, {"id", "j1"}, {"state", "pending"}}).command == "echo");
}

TEST_CASE("job spec: a request body's unknown fields are refused by name, a record's are not") {
    const json body = {{"command", "echo"}, {"colour", "red"}, {"target", {{"nmae", "x"}}}};
    CHECK_NOTHROW(job_spec_from_json(body));  // records and internal specs keep reading as before
    try {
        job_spec_from_json({{"command", "echo"}, {"colour", "red"}}, "job", true);
        FAIL("an unknown field was accepted");
    } catch (const error& e) {
        CHECK(e.kind() == error_kind::invalid_input);
        CHECK(std::string(e.what()).rfind("job field \"colour\" is not supported (known fields: command, ", 0) == 0);
    }
    try {
        job_spec_from_json({{"command", "echo"}, {"target", {{"nmae", "x"}}}}, "job", true);
        FAIL("an unknown target field was accepted");
    } catch (const error& e) {
        CHECK(std::string(e.what()) ==
              "job field \"target.nmae\" is not supported (known fields of target: agent, capabilities, tags)");
    }
    CHECK_THROWS_AS(job_spec_from_json({{"command", "echo"}, {"retries", {{"maximum", 2}}}}, "job", true), error);
    auto ok = job_spec_from_json({{"command", "echo"}, {"pending_timeout", "5s"}, {"payload", nullptr}}, "job", true);
    CHECK(ok.pending_timeout_ms == 5'000);
}
