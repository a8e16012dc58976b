#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace orbitmesh::engine::agent {

/// Everything that decides how one job's process starts. child_process turns it into a
/// supervisor and the job's process (job_supervisor.hpp); what a later wrapper adds (resource
/// limits, a cgroup's limits, a sandbox around argv) belongs here as more fields, applied in the
/// job's pre-exec step, so every such job keeps the same containment.
struct spawn_plan {
    std::vector<std::string> argv;          // argv[0] is the program
    bool search_path = false;               // look argv[0] up in the agent's PATH
    std::vector<std::string> env;           // complete environment, "KEY=VALUE"
    std::filesystem::path cwd;              // empty = the agent's own
    std::optional<std::string> stdin_data;  // nullopt = /dev/null
    std::string job_id;                     // names the data-dir record and the cgroup; may be empty
    int attempt = 0;
};

}  // namespace orbitmesh::engine::agent
