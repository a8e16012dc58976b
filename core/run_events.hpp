#pragma once
#include <string>
#include <string_view>

#include "core/event.hpp"
#include "core/run.hpp"

namespace orbitmesh::core {

/// Event types of a run stream ("run-<id>"); `apply` folds them, live and on replay.
namespace run_event {
inline constexpr std::string_view started = "run.started";        // {id, workflow{id,name,version}, file, source, inputs, vars, timeout_ms, idempotency_key, parent{run,step}, pending, reused}
inline constexpr std::string_view admitted = "run.admitted";      // {} pending -> running (concurrency slot)
inline constexpr std::string_view paused = "run.paused";          // {}
inline constexpr std::string_view resumed = "run.resumed";        // {}
inline constexpr std::string_view ending = "run.ending";          // {state, error}: no new steps; then compensate
inline constexpr std::string_view finished = "run.finished";      // {state, error}
inline constexpr std::string_view step_started = "step.started";  // {path, id, type, attempt, job_ids, detail}
inline constexpr std::string_view step_waiting = "step.waiting";  // {path, kind, until, event_type, correlation_key}
inline constexpr std::string_view step_finished = "step.finished";  // {path, state, output, error, variable}
inline constexpr std::string_view step_skipped = "step.skipped";    // {path, id, type, reason}
inline constexpr std::string_view compensating = "step.compensating";  // {path, job_id, attempt}
inline constexpr std::string_view compensated = "step.compensated";    // {path, state, error}
inline constexpr std::string_view approval = "approval.recorded";      // {path, approver, reject, comment}
}  // namespace run_event

/// Stream name of a run's events.
std::string run_stream(std::string_view run_id);

/// Folds one event into a run. Throws core::error{conflict} for a transition the run's state
/// forbids, leaving the record untouched.
void apply(run_record& r, const event& e);

/// Builds the next event of a run's stream (version = r.version + 1, time = now).
event make_run_event(const run_record& r, std::string_view type, json data);

}  // namespace orbitmesh::core
