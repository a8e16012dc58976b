#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/job_limits.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// Job states of SPEC §3. Terminal: succeeded, failed, cancelled, timed_out, dead.
enum class job_state { pending, assigned, running, succeeded, failed, cancelled, timed_out, dead };
inline constexpr std::size_t job_state_count = 8;

std::string_view to_string(job_state s) noexcept;
std::optional<job_state> parse_job_state(std::string_view s) noexcept;
bool is_terminal(job_state s) noexcept;

/// Execution patterns of SPEC §3.
enum class job_mode { request_response, fire_and_forget, streaming, long_running };
std::string_view to_string(job_mode m) noexcept;
std::optional<job_mode> parse_job_mode(std::string_view s) noexcept;

/// What happens to a job whose agent disappears.
enum class agent_lost_policy { reassign, wait, fail };
std::string_view to_string(agent_lost_policy p) noexcept;
std::optional<agent_lost_policy> parse_agent_lost_policy(std::string_view s) noexcept;

/// Where a job may run: a specific agent, and/or agents with all these capabilities and tags.
struct job_target {
    std::string agent;  // agent id or name; empty = any
    std::vector<std::string> capabilities;
    std::map<std::string, std::string> tags;
};

struct retry_policy {
    int max = 0;                  // retries after the first attempt
    std::int64_t backoff_ms = 1000;  // first delay; doubles each retry
    std::int64_t max_delay_ms = 60'000;
};

/// What a client asks for. Validated by `validate`, which also canonicalises the command name.
struct job_spec {
    std::string command;  // handler name: shell, exec, echo, sleep, system.info, ...
    json payload;         // null when absent
    job_target target;
    int priority = 0;
    std::int64_t timeout_ms = 0;  // per attempt; 0 = none
    std::int64_t pending_timeout_ms = 0;  // fail when no agent took it this long after submit; 0 = wait
    retry_policy retries;
    std::string idempotency_key;
    job_mode mode = job_mode::request_response;
    agent_lost_policy on_agent_lost = agent_lost_policy::reassign;
    std::string trace;  // W3C traceparent
    /// Names of hub-side secrets (a workflow's `secrets:`): the hub resolves them when it sends the
    /// job and the agent puts them in the job's environment; the values are never part of the spec.
    std::vector<std::string> secrets;
    job_limits limits;  // enforced by the agent; empty = none
};

/// Canonical handler name: `system:info`, `orbit:system.info` -> `system.info`.
std::string canonical_command(std::string_view name);

/// Throws core::error{invalid_input} naming the bad field.
void validate(job_spec& spec);

/// The job as the hub knows it: spec plus the state folded from its events.
struct job_record {
    std::string id;
    job_spec spec;
    job_state state = job_state::pending;
    int attempt = 0;       // number of the latest assignment (1-based; 0 = never assigned)
    int retries_used = 0;  // failures that spent a retry
    int reassigns = 0;     // reassignments after agent loss or ACK timeout (do not spend retries)
    std::string agent_id;
    std::string agent_name;
    std::optional<int> exit_code;
    json output;  // null until a result
    std::string error;
    double progress_percent = -1;  // < 0 = no progress reported
    std::string progress_message;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::int64_t assigned_ms = 0;  // the latest assignment (job.assigned)
    std::int64_t started_ms = 0;
    std::int64_t finished_ms = 0;
    std::int64_t not_before_ms = 0;  // retry backoff: not dispatched before this time
    bool cancel_requested = false;
    std::int64_t version = 0;  // events applied to this job's stream
};

json to_json(const job_spec& s);
/// Reads a spec from the HTTP/JSON form. Throws core::error{invalid_input} naming the field
/// (`job field "target.tags.role" must be a string, got an integer`); `what` names the spec in
/// that text ("job", "jobs[3]").
/// With `refuse_unknown` (request bodies), a field the spec does not read is refused, naming it:
/// a client must not believe a field it sent (`limits`, a typo) took effect when it was ignored.
job_spec job_spec_from_json(const json& j, std::string_view what = "job", bool refuse_unknown = false);
/// job_spec_from_json for a spec a client sent (HTTP bodies, `job submit`): refuse_unknown.
job_spec job_spec_from_request(const json& j, std::string_view what = "job");
json to_json(const job_record& r);
job_record job_record_from_json(const json& j);

}  // namespace orbitmesh::core
