#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/handler.hpp"

namespace orbitmesh::engine::agent {

class job_containment;

/// A job that is one child process: shell, exec and plugin handlers all end up here.
struct process_job {
    std::string label;  // handler name for messages: `exec: cannot run "x": ...`
    std::vector<std::string> argv;
    bool search_path = false;
    std::map<std::string, std::string> env;  // on top of the agent's environment and job vars
    std::filesystem::path cwd;
    std::optional<std::string> stdin_data;
    bool json_last_line = false;  // plugins: a last stdout line that is JSON becomes the output
};

/// Reads the `env`, `cwd` and `stdin` keys shared by the shell and exec object payloads.
/// Throws core::error{invalid_input} naming `label` when one has the wrong type.
void read_process_options(const core::json& payload, process_job& job);

/// Starts `job` for `ctx`: output streams line by line, cancel/timeout terminate the process
/// group, and the job finishes with the exit status (succeeded iff 0). Returns at once.
/// `containment` (may be null) records the job's processes and gives it a cgroup.
void start_process_job(const std::shared_ptr<job_context>& ctx, process_job job,
                       std::shared_ptr<job_containment> containment);

}  // namespace orbitmesh::engine::agent
