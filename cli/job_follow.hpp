#pragma once
#include <string>

#include "cli/api_client.hpp"
#include "core/json.hpp"

namespace orbitmesh::cli {

/// Long-polls the hub until the job is terminal; returns its final record. Shows a live progress
/// line on stderr when both stdout and stderr are terminals; unless `quiet`, says on stderr why a
/// job is still pending after 3 s (and again when the reason changes).
core::json wait_for_job(api_client& api, const std::string& job_id, bool quiet = false);
/// Prints the job's output lines (from `after`) to stdout; with `follow`, keeps reading until the
/// job ends. `ndjson` prints each line as a JSON object.
void print_logs(api_client& api, const std::string& job_id, bool follow, bool ndjson);
/// Exit code for a final job state: 0 succeeded, 1 failed/dead, 4 timed_out, 5 cancelled.
int exit_code_for_state(const std::string& state);
/// Prints a job record the way `-o` asks (table: a key/value block).
void print_job(const core::json& job, const std::string& format);

}  // namespace orbitmesh::cli
