#pragma once
#include <string>
#include <string_view>

#include "core/job.hpp"
#include "core/json.hpp"
#include "core/workflow.hpp"

// How the original's job_completion and file_watch triggers map onto event triggers, for the
// trigger engine to call when it fires event triggers (docs/original-format.md).
namespace orbitmesh::engine {

/// The event a job's end posts (data: the job record as the API shows it).
inline constexpr std::string_view job_finished_event = "job.finished";
/// The event an agent's file watcher posts (data: {path, name, change, watch_id, agent}).
inline constexpr std::string_view file_changed_event = "file.changed";
/// The handler an agent starts a watch with (the original's `orbit:filewatch:start`).
inline constexpr std::string_view file_watch_command = "filewatch.start";

/// Shell-style glob (`*`, `?`, `[…]`) over the whole text; "" and "*" match everything.
bool glob_match(std::string_view pattern, std::string_view text);

/// Whether a finished job (its API record: command, state, agent.{id,name}) fires a
/// `job_completion` trigger: command_pattern, statuses (empty: any end state) and agent_pattern.
bool job_completion_matches(const core::workflow_trigger& t, const core::json& job);

/// Whether a `file.changed` event fires a `file_watch` trigger: the watch is the trigger's
/// (`watch_id`), the change type is one of change_types and the agent matches agent_pattern.
bool file_event_matches(const core::workflow_trigger& t, const std::string& workflow_id, const core::json& event);

/// The id of the watch a file_watch trigger asks agents for: `WORKFLOW/TRIGGER`.
std::string file_watch_id(const std::string& workflow_id, const core::workflow_trigger& t);
/// The job that starts the watch on every agent matching agent_pattern (submit it with fan-out
/// when the workflow is registered or an agent connects; `filewatch.stop` with {watch_id} ends it).
core::job_spec file_watch_job(const std::string& workflow_id, const core::workflow_trigger& t);

}  // namespace orbitmesh::engine
