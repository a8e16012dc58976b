#pragma once
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/job.hpp"

namespace orbitmesh::core {

/// Event types of a job stream ("job-<id>"); `apply` is the one fold used both live and on replay.
namespace job_event {
inline constexpr std::string_view submitted = "job.submitted";              // {spec}
inline constexpr std::string_view assigned = "job.assigned";                // {attempt, agent_id, agent_name}
inline constexpr std::string_view started = "job.started";                  // {attempt} (the agent ACKed)
inline constexpr std::string_view finished = "job.finished";                // {attempt, state, exit_code, output, error}
inline constexpr std::string_view retry_scheduled = "job.retry_scheduled";  // {attempt, not_before, exit_code, output, error}
inline constexpr std::string_view requeued = "job.requeued";                // {attempt, reason, counts}
inline constexpr std::string_view dead = "job.dead";                        // {attempt, exit_code, output, error}
inline constexpr std::string_view cancel_requested = "job.cancel_requested";  // {reason}
inline constexpr std::string_view retried = "job.retried";                  // {} manual `job retry`
}  // namespace job_event

/// Stream name of a job's events.
std::string job_stream(std::string_view job_id);

/// Folds one event into a record. Throws core::error{conflict} for a transition the state machine
/// forbids, leaving the record untouched.
void apply(job_record& r, const event& e);

/// `apply` for a job.submitted event the caller built from `spec`: the same checks and the same
/// record, without reading the spec back out of the event data (the hub's submit path).
void apply_submitted(job_record& r, const event& e, job_spec spec);

/// Builds the next event of a job's stream (version = r.version + 1, stamped `time_ms`).
event make_job_event(const job_record& r, std::string_view type, json data, std::int64_t time_ms = now_ms());

}  // namespace orbitmesh::core
