#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/job.hpp"
#include "core/job_machine.hpp"

namespace orbitmesh::core {

/// The fields of one job event that decide its transition, read from the event's data by
/// whoever holds it (a json tree on the hub, MessagePack in place on replay).
struct job_event_facts {
    job_event_kind kind = job_event_kind::submitted;
    int attempt = -1;                     // -1: absent
    std::optional<job_state> final_state;  // job.finished: its "state"
    std::int64_t not_before = 0;           // job.retry_scheduled
    bool counts = true;                    // job.requeued: spends one of --max-reassign
};

/// What the caller copies out of the event data once fold_transition accepted the event: the
/// parts of a record that each representation stores its own way (a job_spec and json values
/// on the hub, byte ranges on replay).
enum job_effect : unsigned {
    effect_spec = 1u << 0,           // id and spec from job.submitted
    effect_agent = 1u << 1,          // agent_id / agent_name from job.assigned
    effect_outcome = 1u << 2,        // exit_code, output, error
    effect_clear_agent = 1u << 3,    // back in the queue: no agent, no progress
    effect_reason = 1u << 4,         // error = the requeue reason
    effect_clear_outcome = 1u << 5,  // `job retry`: exit_code, output and error forgotten
};

/// Throws the core::error{conflict} of a transition the state machine refuses.
[[noreturn]] void illegal_job_transition(std::string_view job_id, std::string_view type, std::optional<job_state> from,
                                         const char* why);

/// The one fold of job events, shared by every record type `R` with job_record's scalar members
/// (state, attempt, retries_used, reassigns, cancel_requested, the *_ms times, version):
/// checks the transition against job_transitions() and the attempt fence, then updates those
/// members and returns the job_effect bits for the rest. Throws core::error{conflict} naming
/// the job, the event and the reason, before changing anything.
template <typename R>
unsigned fold_transition(R& r, std::string_view job_id, std::string_view type, const job_event_facts& f,
                         std::int64_t version, std::int64_t time_ms) {
    const std::optional<job_state> from = r.version == 0 ? std::nullopt : std::optional<job_state>(r.state);
    auto illegal = [&](const char* why) { illegal_job_transition(job_id, type, from, why); };
    using k = job_event_kind;
    std::optional<job_state> to = f.kind == k::finished ? f.final_state : job_transition_target(from, f.kind);
    if (f.kind == k::finished && (!to || !is_terminal(*to) || *to == job_state::dead)) illegal("bad final state");
    if (!to || !job_transition_allowed(from, f.kind, *to)) {
        if (!from) illegal(f.kind == k::submitted ? "job already exists" : "job does not exist");
        illegal(f.kind == k::submitted ? "job already exists" : "the state machine has no such transition");
    }
    const bool fenced = f.kind == k::started || f.kind == k::retry_scheduled || f.kind == k::requeued ||
                        (f.kind == k::finished && from != job_state::pending);
    if (fenced && f.attempt != r.attempt) illegal("stale attempt");
    if (f.kind == k::assigned && f.attempt <= r.attempt) illegal("attempt numbers only grow");

    unsigned effects = 0;
    switch (f.kind) {
    case k::submitted: effects = effect_spec; r.created_ms = time_ms; break;
    case k::assigned:
        effects = effect_agent;
        r.attempt = f.attempt;
        r.not_before_ms = 0;
        r.assigned_ms = time_ms;
        break;
    case k::started: r.started_ms = time_ms; break;
    case k::finished:
    case k::dead: effects = effect_outcome; r.finished_ms = time_ms; break;
    case k::retry_scheduled:
        effects = effect_outcome | effect_clear_agent;
        r.retries_used += 1;
        r.not_before_ms = f.not_before;
        break;
    case k::requeued:
        effects = effect_clear_agent | effect_reason;
        if (f.counts) r.reassigns += 1;
        break;
    case k::cancel_requested: r.cancel_requested = true; break;
    case k::retried:
        effects = effect_clear_agent | effect_clear_outcome;
        r.retries_used = 0;
        r.cancel_requested = false;
        r.finished_ms = 0;
        r.not_before_ms = 0;
        break;
    }
    r.state = *to;
    r.version = version;
    r.updated_ms = time_ms;
    return effects;
}

}  // namespace orbitmesh::core
