#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/catch_up_policy.hpp"
#include "core/json.hpp"
#include "core/workflow_step.hpp"

namespace orbitmesh::core {

/// A typed input parameter (`inputs:` or a manual trigger's `input_schema`).
struct input_param {
    std::string name;
    std::string type = "string";  // string, integer, number, boolean, array, object, datetime
    std::string description;
    bool required = false;
    std::optional<json> default_value;
    std::vector<json> allowed_values;  // empty = any value of the type
    source_pos pos;
};

enum class trigger_type { manual, schedule, webhook, event };
std::string_view to_string(trigger_type t) noexcept;
std::optional<trigger_type> parse_trigger_type(std::string_view s) noexcept;

struct workflow_trigger {
    std::string id;
    std::string name;
    trigger_type type = trigger_type::manual;
    bool enabled = true;
    // schedule
    std::string cron;             // 5 or 6 fields; "" when `interval` is used
    std::int64_t interval_ms = 0;
    std::string timezone = "UTC";
    catch_up_policy catch_up = catch_up_policy::none;
    int catch_up_limit = 100;     // catch_up: all fires at most this many missed times
    int max_concurrent = 1;       // runs of this trigger at once; a fire time past it is skipped
    // webhook
    std::string secret;           // HMAC-SHA256 key; may be "${{ … }}" resolved by the hub
    json input_mapping;           // object: input name -> expression over the request/event
    // event
    std::string event_type;
    std::string filter;           // bare expression; "" = every event of the type
    // The original's job_completion and file_watch triggers are event triggers with these keys
    // (engine/workflow/trigger_mapping.hpp decides whether an event matches them).
    std::string origin;                     // "", "job_completion" or "file_watch"
    std::string command_pattern;            // job_completion: glob over the job's command; "" = any
    std::vector<std::string> job_states;    // job_completion: end states; empty = failed and succeeded alike
    std::string agent_pattern;              // glob over the agent's name (or id); "" = any
    std::string watch_path;                 // file_watch: directory or file the agent watches
    std::string watch_filter = "*";         // file_watch: glob over file names
    bool include_subdirectories = true;
    std::vector<std::string> change_types;  // created, modified, deleted, renamed; empty = all
    std::int64_t debounce_ms = 1000;
    source_pos pos;
};

enum class error_strategy { stop, continue_running };
std::string_view to_string(error_strategy s) noexcept;

struct error_handling {
    error_strategy strategy = error_strategy::stop;
    bool compensate = true;  // run the compensations of completed steps when the run fails
};

/// A workflow definition as loaded from YAML or JSON (SPEC §4). Plain data: validation lives
/// in the loader (engine/workflow), expressions stay text until a run evaluates them.
struct workflow {
    std::string id;  // defaults to the file name without extension
    std::string name;
    std::string version;
    std::string description;
    std::vector<std::string> tags;
    json variables = json::object();  // defaults of `vars.*`
    std::vector<input_param> inputs;
    std::int64_t timeout_ms = 0;      // whole run; 0 = none
    std::vector<workflow_trigger> triggers;
    step_list steps;
    core::error_handling on_error;
    int concurrency = 0;              // max runs at once; 0 = unlimited
    /// `secrets:` names the hub resolves (--secrets-dir, its environment) into the environment of
    /// every job the run starts; masked as *** wherever a job's text shows them.
    std::vector<std::string> secrets;
    bool enabled = true;
    std::string source_file;          // where it was loaded from, for diagnostics
    /// Read in the original OrbitMesh's dialect (`${…}` expressions, steps in list order); the
    /// reason names what gave it away (docs/original-format.md). "" = our own format.
    std::string original_dialect;
};

/// Every step, nested ones included, in file order (parents before their children).
void for_each_step(const step_list& steps, const std::function<void(const workflow_step&)>& fn);
std::size_t count_steps(const step_list& steps);
/// The step with `id` anywhere in the tree, or nullptr.
const workflow_step* find_step(const step_list& steps, std::string_view id);

}  // namespace orbitmesh::core
