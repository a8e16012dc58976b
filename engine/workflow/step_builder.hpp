#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/workflow_step.hpp"
#include "engine/workflow/build_context.hpp"
#include "engine/workflow/source_node.hpp"

// Internal to the workflow loader: turns located YAML/JSON steps into core::workflow_step,
// reporting every problem to the sink instead of stopping at the first.
namespace orbitmesh::engine {

/// A list of steps (`steps`, `branches`, `then`, `else`, `loop_steps`). `owner` names where the
/// list is, for messages (`workflow`, `step "fan" branches`).
core::step_list build_steps(const source_node& list, diagnostics_sink& sink, const std::string& owner);

/// A job to dispatch: `command` or `run:`, `payload`, `target`/`pattern`, `capabilities`,
/// `tags`/`required_tags`, `priority`. Used by job steps and compensations.
void read_job_action(map_reader& r, core::job_action& a);
/// `retry: N | {max, delay, backoff, max_delay}` or the original `max_retries`/`retry_delay`.
/// Returns true when any retry key was written.
bool read_retry(map_reader& r, core::step_retry& retry);
/// `compensation:` as a job spec map or a script string.
std::optional<core::job_action> read_compensation(const source_node& n, diagnostics_sink& sink, const std::string& owner);

/// The original format's step keys (original_steps.cpp): `args:` merged into a job's payload,
/// `notify`/`notification`, `script` and `http` steps.
void merge_args(map_reader& r, core::job_action& a);
core::step_config read_notify(map_reader& r);
core::step_config read_script(map_reader& r);
core::step_config read_http(map_reader& r);

/// The keys of one step type beyond the common ones, and the config read from them.
std::vector<std::string_view> step_type_keys(core::step_type t);
core::step_config read_step_config(core::step_type t, map_reader& r, const core::workflow_step& s);
/// For a key that a step does not read: which step types do read it ("" when none).
std::string key_of_other_type(std::string_view key);

/// True for names usable as `steps.NAME` and bare variables: letters, digits, `_`, `-`.
bool is_plain_name(std::string_view s) noexcept;

}  // namespace orbitmesh::engine
