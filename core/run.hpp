#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::core {

/// Run states of SPEC §4 (`waiting` is derived: a running run whose active steps all wait).
enum class run_state { pending, running, waiting, paused, succeeded, failed, cancelled, timed_out };
std::string_view to_string(run_state s) noexcept;
std::optional<run_state> parse_run_state(std::string_view s) noexcept;
bool is_terminal(run_state s) noexcept;

/// Step states of SPEC §4.
enum class step_state { pending, running, waiting, succeeded, failed, skipped, cancelled, timed_out, compensating, compensated };
std::string_view to_string(step_state s) noexcept;
std::optional<step_state> parse_step_state(std::string_view s) noexcept;
/// Ended: nothing more happens to the step unless the run compensates it.
bool is_terminal(step_state s) noexcept;

/// What a waiting step waits for: `delay`, `retry`, `event`, `approval`.
struct step_wait {
    std::string kind;
    std::int64_t until_ms = 0;  // absolute wall-clock time; 0 = no deadline
    std::string event_type;
    std::string correlation_key;
    std::string message;  // an approval's message, rendered when the wait began
};

struct approval_entry {
    std::string approver;
    bool reject = false;
    std::string comment;
    std::int64_t time_ms = 0;
};

/// One step of one run, addressed by its path (`build`, `par/b1`, `each[2]/upload`).
struct step_record {
    std::string path;
    std::string id;
    std::string type;
    step_state state = step_state::pending;
    int attempts = 0;
    std::vector<std::string> job_ids;  // of the current attempt (several with `fan_out: all`)
    json output;
    std::string error;
    std::string agent;             // name(s) of the agent(s) its job(s) ran on, once finished
    json detail = json::object();  // chosen branch, foreach items, child run id
    step_wait wait;
    std::vector<approval_entry> approvals;
    std::int64_t started_ms = 0;
    std::int64_t attempt_started_ms = 0;  // the current attempt's start, for its timeout
    std::int64_t finished_ms = 0;
    int completed_order = 0;  // > 0 once succeeded: the order compensations reverse
};

/// The outcome of one compensation (SPEC §4: recorded for each completed step undone).
struct compensation_record {
    std::string step;
    std::string state = "running";  // running | succeeded | failed | ...
    std::string job_id;
    std::string error;
    int attempts = 0;
};

/// A workflow run folded from its `run-<id>` stream.
struct run_record {
    std::string id;
    std::string workflow_id;
    std::string workflow_name;
    std::string workflow_version;
    std::string file;
    std::string source;  // the definition the run was started from
    json inputs = json::object();
    json vars = json::object();
    std::int64_t timeout_ms = 0;
    std::string idempotency_key;
    std::string parent_run;
    std::string parent_step;
    run_state state = run_state::pending;
    bool paused = false;
    std::optional<run_state> ending;  // set once the run is failing, cancelled or timed out
    std::string error;
    std::int64_t created_ms = 0;
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    std::map<std::string, step_record> steps;  // by path
    std::vector<std::string> step_order;       // top-level step ids in file order (for to_json)
    std::map<std::string, std::vector<std::string>> step_needs;  // top-level step id -> its depends_on (the DAG)
    std::vector<compensation_record> compensations;
    int completed = 0;
    std::int64_t version = 0;

    step_record* find(const std::string& path);
    const step_record* find(const std::string& path) const;
};

/// JSON form of docs/http-api.md (steps nested with their children).
json to_json(const run_record& r);
/// Outputs of the top-level steps by id (what a parent run's sub_workflow step receives).
json run_outputs(const run_record& r);

}  // namespace orbitmesh::core
