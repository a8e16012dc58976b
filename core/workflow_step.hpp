#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/job.hpp"
#include "core/json.hpp"
#include "core/retry_delay.hpp"

namespace orbitmesh::core {

/// Step types of SPEC §4. parse_step_type also reads the original format's aliases.
enum class step_type { job, parallel, conditional, foreach, delay, wait_for_event, approval, sub_workflow, transform, notify,
                       script, http };
std::string_view to_string(step_type t) noexcept;
std::optional<step_type> parse_step_type(std::string_view s) noexcept;
std::vector<std::string_view> step_type_names();

/// Where something was written: 1-based line and column; 0 = unknown.
struct source_pos {
    int line = 0;
    int column = 0;
};

/// `retry: {max, delay, backoff, max_delay}` (or the original `max_retries`/`retry_delay`).
struct step_retry {
    int max = 0;                      // retries after the first attempt
    std::int64_t delay_ms = 1000;     // before the first retry
    backoff_kind backoff = backoff_kind::exponential;
    std::int64_t max_delay_ms = 60'000;
};

/// What a job step (or a compensation) dispatches. Strings may hold `${{ … }}`, evaluated when
/// the step starts; `target.agent` is an agent id or a name glob ("" = any).
struct job_action {
    std::string command;  // handler name; "shell" for the `run:` shorthand
    json payload;         // null when absent; the script text for `run:`
    job_target target;
    int priority = 0;
    std::int64_t timeout_ms = 0;  // per attempt; 0 = none
    std::int64_t pending_timeout_ms = 0;  // the job fails when no agent took it this long; 0 = wait
    step_retry retry;
    bool fan_out_all = false;     // `fan_out: all`: one job per matching agent
    bool per_agent_results = false;  // the original's `pattern:` jobs: output [{agentId, agentName, status, result, error, exitCode}]
    job_limits limits;               // `limits:` of the step, enforced by the agent
};

struct workflow_step;
using step_list = std::vector<workflow_step>;

struct job_step { job_action action; };
struct parallel_step {
    step_list branches;  // each branch is one step (use a nested type for a sequence)
    int max_concurrency = 0;  // 0 = all at once
    bool fail_fast = true;
};
struct conditional_step {
    std::string expression;  // bare expression text
    step_list then_steps;
    step_list else_steps;
};
struct foreach_step {
    json collection;  // a list, or a string holding an expression that gives one
    std::string item_variable = "item";
    std::string index_variable = "index";
    step_list steps;
    int max_concurrency = 1;
};
struct delay_step { std::int64_t duration_ms = 0; };
struct wait_for_event_step {
    std::string event_type;
    std::string correlation_key;  // may hold ${{ … }}; "" = any event of the type
};
enum class approval_timeout_action { fail, approve, reject };
struct approval_step {
    std::vector<std::string> approvers;  // empty = anyone allowed to approve
    int required_approvals = 1;
    std::string message;
    approval_timeout_action timeout_action = approval_timeout_action::fail;
};
struct sub_workflow_step {
    std::string workflow_id;
    std::string workflow_version;  // "" = latest
    json input;                    // object; values may hold ${{ … }}
    bool wait_for_completion = true;
};
struct transform_step { std::string expression; };
/// `notify` and the original's `notification`: `channel` is `webhook` (POST to `target`), `log`
/// (the hub's log), or a name the hub's configuration maps to one of those (`default` = log).
struct notify_step {
    std::string channel = "webhook";
    std::string target;    // URL
    json message;          // string or object; may hold ${{ … }}
    std::string title;     // `title` or the original `subject`; may hold ${{ … }}
    std::string severity;  // info, warning, error, critical (free text); may hold ${{ … }}
};
/// The original's `type: script`: JavaScript run on the hub in the sandbox (docs/javascript.md).
struct script_step {
    std::string language = "javascript";
    std::string code;      // the body of `function (context) { … }`; its return value is the output
    int code_line = 0;     // file line of the code's first line
};
/// An outbound HTTP request made by the hub; output {status, headers, body}.
struct http_step {
    std::string method = "GET";
    std::string url;                    // may hold ${{ … }}
    json headers = json::object();      // NAME: VALUE; values may hold ${{ … }}
    json body;                          // null, a string, or JSON sent as application/json
    std::vector<int> expected_status;   // empty = any 2xx
};
/// An original-format `${…}` that only JavaScript can evaluate; the field holds `${{ __js.KEY }}`.
struct js_field {
    std::string key;     // e0, e1, … within the step
    std::string source;  // the JavaScript as written
    std::string field;   // where: "message", "payload", "condition", …
    int line = 0;
};

/// Alternatives in step_type order, so `config.index() == static_cast<size_t>(type)`.
using step_config = std::variant<job_step, parallel_step, conditional_step, foreach_step, delay_step,
                                 wait_for_event_step, approval_step, sub_workflow_step, transform_step, notify_step,
                                 script_step, http_step>;

/// One step of a workflow, with where each of its keys was written.
struct workflow_step {
    std::string id;
    std::string name;  // defaults to id
    step_type type = step_type::job;
    std::vector<std::string> depends_on;  // ids of steps in the same step list
    std::string condition;                // bare expression; "" = always run
    std::int64_t timeout_ms = 0;          // 0 = none
    /// A timeout computed when the step starts (`"${{ inputs.n * 30 }}s"`, the original's
    /// `"${plan.timeout * 2}s"`): a template giving a duration. "" = `timeout_ms` as written.
    std::string timeout_template;
    step_retry retry;
    bool continue_on_error = false;
    std::string output_variable;
    std::optional<job_action> compensation;
    std::optional<agent_lost_policy> on_agent_lost;
    step_config config;
    std::vector<js_field> js;   // original dialect: expressions evaluated by JavaScript first
    bool implicit_order = false;  // original dialect: depends_on is the step before it in its list
    std::string dialect_note;     // original dialect: how a construct was read, for `workflow validate`

    source_pos pos;                               // the step's first key
    std::map<std::string, source_pos, std::less<>> key_pos;  // every key as written

    /// Line of `key` if it was written, else the step's line.
    int line_of(std::string_view key) const;
    job_action* job() noexcept { return std::get_if<job_step>(&config) ? &std::get<job_step>(config).action : nullptr; }
    const job_action* job() const noexcept {
        return std::get_if<job_step>(&config) ? &std::get<job_step>(config).action : nullptr;
    }
};

/// Nested step lists of a step (branches, then/else, foreach steps), in that order.
std::vector<const step_list*> child_lists(const workflow_step& s);

}  // namespace orbitmesh::core
