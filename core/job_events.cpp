#include "core/job_events.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

[[noreturn]] void illegal(const job_record& r, const event& e, const char* why) {
    throw error(error_kind::conflict, "job " + r.id + ": event " + e.type + " is not allowed in state " +
                                          std::string(to_string(r.state)) + " (" + why + ")");
}

bool in_flight(job_state s) { return s == job_state::assigned || s == job_state::running; }

void require_attempt(const job_record& r, const event& e) {
    if (e.data.value("attempt", -1) != r.attempt) illegal(r, e, "stale attempt");
}

void read_outcome(job_record& r, const json& d) {
    auto ec = d.find("exit_code");
    r.exit_code = (ec != d.end() && ec->is_number()) ? std::optional<int>(ec->get<int>()) : std::nullopt;
    r.output = d.value("output", json());
    r.error = d.value("error", std::string{});
}

void start(job_record& r, const event& e, job_spec spec) {
    if (r.version != 0) illegal(r, e, "job already exists");
    r.id = e.data.at("id").get<std::string>();
    r.spec = std::move(spec);
    r.state = job_state::pending;
    r.created_ms = e.time_ms;
}

void apply_submitted(job_record& r, const event& e) { start(r, e, job_spec_from_json(e.data.at("spec"))); }

void apply_finished(job_record& r, const event& e) {
    auto to = parse_job_state(e.data.value("state", std::string{}));
    if (!to || !is_terminal(*to) || *to == job_state::dead) illegal(r, e, "bad final state");
    if (r.state == job_state::pending) {
        if (*to != job_state::cancelled && *to != job_state::failed) illegal(r, e, "a pending job can only be cancelled or failed");
    } else {
        if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
        require_attempt(r, e);
    }
    r.state = *to;
    read_outcome(r, e.data);
    r.finished_ms = e.time_ms;
}

void back_to_pending(job_record& r) {
    r.state = job_state::pending;
    r.agent_id.clear();
    r.agent_name.clear();
    r.progress_percent = -1;
    r.progress_message.clear();
}

}  // namespace

std::string job_stream(std::string_view job_id) { return "job-" + std::string(job_id); }

void apply(job_record& r, const event& e) {
    const auto& t = e.type;
    const auto& d = e.data;
    if (t == job_event::submitted) {
        apply_submitted(r, e);
    } else if (t == job_event::assigned) {
        if (r.state != job_state::pending) illegal(r, e, "only pending jobs are assigned");
        int attempt = d.at("attempt").get<int>();
        if (attempt <= r.attempt) illegal(r, e, "attempt numbers only grow");
        r.state = job_state::assigned;
        r.attempt = attempt;
        r.agent_id = d.at("agent_id").get<std::string>();
        r.agent_name = d.value("agent_name", std::string{});
        r.not_before_ms = 0;
        r.assigned_ms = e.time_ms;
    } else if (t == job_event::started) {
        if (r.state != job_state::assigned) illegal(r, e, "only assigned jobs start");
        require_attempt(r, e);
        r.state = job_state::running;
        r.started_ms = e.time_ms;
    } else if (t == job_event::finished) {
        apply_finished(r, e);
    } else if (t == job_event::retry_scheduled) {
        if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
        require_attempt(r, e);
        read_outcome(r, d);
        back_to_pending(r);
        r.retries_used += 1;
        r.not_before_ms = d.value("not_before", std::int64_t{0});
    } else if (t == job_event::requeued) {
        if (!in_flight(r.state)) illegal(r, e, "job is not in flight");
        require_attempt(r, e);
        back_to_pending(r);
        if (d.value("counts", true)) r.reassigns += 1;
        r.error = d.value("reason", std::string{});
    } else if (t == job_event::dead) {
        if (is_terminal(r.state)) illegal(r, e, "job already ended");
        read_outcome(r, d);
        r.state = job_state::dead;
        r.finished_ms = e.time_ms;
    } else if (t == job_event::cancel_requested) {
        if (is_terminal(r.state)) illegal(r, e, "job already ended");
        r.cancel_requested = true;
    } else if (t == job_event::retried) {
        if (!is_terminal(r.state) || r.state == job_state::succeeded) illegal(r, e, "only ended, unsuccessful jobs are retried");
        back_to_pending(r);
        r.retries_used = 0;
        r.cancel_requested = false;
        r.exit_code.reset();
        r.output = json();
        r.error.clear();
        r.finished_ms = 0;
        r.not_before_ms = 0;
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

event make_job_event(const job_record& r, std::string_view type, json data) {
    return make_event(job_stream(r.id), r.version, type, std::move(data));
}

}  // namespace orbitmesh::core
