#include "core/job_events.hpp"

#include <limits>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"

namespace orbitmesh::core {

namespace {

[[noreturn]] void illegal(const job_record& r, const event& e, const char* why) {
    throw error(error_kind::conflict, "job " + r.id + ": event " + e.type + " is not allowed in state " +
                                          std::string(to_string(r.state)) + " (" + why + ")");
}

bool in_flight(job_state s) { return s == job_state::assigned || s == job_state::running; }

/// An event's data, read with every field's type checked before the record changes (the fold
/// either applies a whole event or throws with the record untouched).
field_reader data_of(const event& e) { return field_reader(e.data, e.type, error_kind::invalid_input); }

int attempt_of(field_reader& d) { return static_cast<int>(d.maybe_integer("attempt", 0, field_reader::int_max).value_or(-1)); }

void require_attempt(const job_record& r, const event& e, int attempt) {
    if (attempt != r.attempt) illegal(r, e, "stale attempt");
}

/// What an attempt's outcome event carries (finished, retry_scheduled, dead).
struct outcome_fields {
    std::optional<int> exit_code;
    json output;
    std::string error;
};

outcome_fields read_outcome(field_reader& d) {
    outcome_fields o;
    if (auto code = d.get("exit_code"); code && code->is_number())  // older events may carry a float
        o.exit_code = static_cast<int>(d.number("exit_code", std::numeric_limits<int>::min(), field_reader::int_max));
    o.output = d.value("output");
    o.error = d.maybe_text("error").value_or(std::string{});
    return o;
}

void set_outcome(job_record& r, outcome_fields o) {
    r.exit_code = o.exit_code;
    r.output = std::move(o.output);
    r.error = std::move(o.error);
}

void start(job_record& r, const event& e, job_spec spec) {
    if (r.version != 0) illegal(r, e, "job already exists");
    auto d = data_of(e);
    r.id = d.text("id");
    r.spec = std::move(spec);
    r.state = job_state::pending;
    r.created_ms = e.time_ms;
}

void apply_submitted(job_record& r, const event& e) {
    auto d = data_of(e);
    if (!d.get("spec")) d.object("spec");  // reports it as missing
    start(r, e, job_spec_from_json(*d.get("spec"), "job.submitted field \"spec\": job"));
}

void apply_finished(job_record& r, const event& e) {
    auto d = data_of(e);
    auto to = parse_job_state(d.maybe_text("state").value_or(std::string{}));
    if (!to || !is_terminal(*to) || *to == job_state::dead) illegal(r, e, "bad final state");
    if (r.state == job_state::pending) {
        if (*to != job_state::cancelled && *to != job_state::failed) illegal(r, e, "a pending job can only be cancelled or failed");
    } else {
        if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
        require_attempt(r, e, attempt_of(d));
    }
    auto o = read_outcome(d);
    r.state = *to;
    set_outcome(r, std::move(o));
    r.finished_ms = e.time_ms;
}

void apply_assigned(job_record& r, const event& e) {
    if (r.state != job_state::pending) illegal(r, e, "only pending jobs are assigned");
    auto d = data_of(e);
    int attempt = static_cast<int>(d.integer("attempt", 1, field_reader::int_max));
    if (attempt <= r.attempt) illegal(r, e, "attempt numbers only grow");
    auto agent_id = d.text("agent_id");
    auto agent_name = d.maybe_text("agent_name").value_or(std::string{});
    r.state = job_state::assigned;
    r.attempt = attempt;
    r.agent_id = std::move(agent_id);
    r.agent_name = std::move(agent_name);
    r.not_before_ms = 0;
    r.assigned_ms = e.time_ms;
}

void back_to_pending(job_record& r) {
    r.state = job_state::pending;
    r.agent_id.clear();
    r.agent_name.clear();
    r.progress_percent = -1;
    r.progress_message.clear();
}

void apply_retry_scheduled(job_record& r, const event& e) {
    if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
    auto d = data_of(e);
    require_attempt(r, e, attempt_of(d));
    auto o = read_outcome(d);
    auto not_before = d.maybe_integer("not_before", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
    set_outcome(r, std::move(o));
    back_to_pending(r);
    r.retries_used += 1;
    r.not_before_ms = not_before;
}

void apply_requeued(job_record& r, const event& e) {
    if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
    auto d = data_of(e);
    require_attempt(r, e, attempt_of(d));
    bool counts = d.maybe_boolean("counts").value_or(true);
    auto reason = d.maybe_text("reason").value_or(std::string{});
    back_to_pending(r);
    if (counts) r.reassigns += 1;
    r.error = std::move(reason);
}

void apply_retried(job_record& r, const event& e) {
    if (!is_terminal(r.state) || r.state == job_state::succeeded) illegal(r, e, "only ended, unsuccessful jobs are retried");
    back_to_pending(r);
    r.retries_used = 0;
    r.cancel_requested = false;
    r.exit_code.reset();
    r.output = json();
    r.error.clear();
    r.finished_ms = 0;
    r.not_before_ms = 0;
}

}  // namespace

std::string job_stream(std::string_view job_id) { return "job-" + std::string(job_id); }

void apply(job_record& r, const event& e) {
    const auto& t = e.type;
    if (t == job_event::submitted) {
        apply_submitted(r, e);
    } else if (t == job_event::assigned) {
        apply_assigned(r, e);
    } else if (t == job_event::started) {
        if (r.state != job_state::assigned) illegal(r, e, "only assigned jobs start");
        auto d = data_of(e);
        require_attempt(r, e, attempt_of(d));
        r.state = job_state::running;
        r.started_ms = e.time_ms;
    } else if (t == job_event::finished) {
        apply_finished(r, e);
    } else if (t == job_event::retry_scheduled) {
        apply_retry_scheduled(r, e);
    } else if (t == job_event::requeued) {
        apply_requeued(r, e);
    } else if (t == job_event::dead) {
        if (is_terminal(r.state)) illegal(r, e, "job already ended");
        auto d = data_of(e);
        set_outcome(r, read_outcome(d));
        r.state = job_state::dead;
        r.finished_ms = e.time_ms;
    } else if (t == job_event::cancel_requested) {
        if (is_terminal(r.state)) illegal(r, e, "job already ended");
        r.cancel_requested = true;
    } else if (t == job_event::retried) {
        apply_retried(r, e);
    } else {
        throw error(error_kind::conflict, "job " + r.id + ": unknown event type " + t);
    }
    r.version = e.version;
    r.updated_ms = e.time_ms;
}

void apply_submitted(job_record& r, const event& e, job_spec spec) {
    if (e.type != job_event::submitted) throw error(error_kind::conflict, "job " + r.id + ": " + e.type + " is not job.submitted");
    start(r, e, std::move(spec));
    r.version = e.version;
    r.updated_ms = e.time_ms;
}

event make_job_event(const job_record& r, std::string_view type, json data, std::int64_t time_ms) {
    return make_event(job_stream(r.id), r.version, type, std::move(data), time_ms);
}

}  // namespace orbitmesh::core
