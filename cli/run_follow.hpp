#pragma once
#include <chrono>
#include <optional>
#include <string>

#include "cli/api_client.hpp"
#include "core/json.hpp"

namespace orbitmesh::cli {

/// How `run` (and `workflow rerun --wait`) follows a run to its end.
struct follow_options {
    std::string format = "table";  // table | json | ndjson
    bool quiet = false;
    bool verbose = false;  // table mode: step log lines on stderr even off a terminal
    /// Top-level steps of the workflow when known (the hub's record grows as steps start).
    std::size_t total_steps = 0;
    /// The client gives up here (exit 4) when the hub has not ended the run by then.
    std::optional<std::chrono::steady_clock::time_point> deadline;
};

/// Follows GET /api/v1/runs/ID/events until `done`, printing as `opts.format` asks (ndjson: every
/// event on stdout; json: the final record; table: live progress on a terminal, a step tree at
/// the end). Returns the exit code for the run's final state (0, 1, 4, 5).
int follow_run(api_client& api, const std::string& run_id, const follow_options& opts);

/// A step tree for people: each step with its state, attempts, agent and duration (stdout).
void print_run_tree(const core::json& run);
/// `status runs`: ID, WORKFLOW, STATE, STEPS done/total, STARTED, DURATION (or JSON).
void print_run_list(const core::json& runs, const std::string& format);
/// Exit code for a final run state: 0 succeeded, 4 timed_out, 5 cancelled, 1 otherwise.
int exit_code_for_run_state(const std::string& state);
/// True for succeeded, failed, cancelled, timed_out.
bool run_finished(const std::string& state);

}  // namespace orbitmesh::cli
