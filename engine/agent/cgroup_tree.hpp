#pragma once
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace orbitmesh::engine::agent {

/// cgroup v2 directories for jobs: `OWN/orbitmesh-AGENT_ID/` under the agent's own cgroup, one
/// child per job attempt inside it. The agent itself stays where it is; the per-agent directory
/// holds no process, so controllers can later be enabled in it for per-job limits. Optional: where
/// the agent may not create cgroups (cgroup v1 only, a read-only cgroupfs, no delegation) open()
/// says why and jobs run without one. Immutable after open(); thread-safe.
class cgroup_tree {
public:
    /// Finds the agent's own cgroup v2 directory, creates the agent's directory in it and checks
    /// that a process can be moved into a child of it. nullopt, with `why_not`, when any step fails.
    static std::optional<cgroup_tree> open(const std::string& agent_id, std::string& why_not);

    const std::filesystem::path& dir() const { return dir_; }
    /// cgroup.kill exists (Linux 5.14+); without it kill_cgroup() signals each process.
    bool has_kill() const { return has_kill_; }
    /// A new child directory for one job: `name`, or `name-2`, … when taken. Empty and `error` set
    /// on failure.
    std::filesystem::path create(const std::string& name, std::string& error) const;
    /// Removes the agent's directory if it is empty (on a clean exit). Never throws.
    void remove_if_empty() const noexcept;

private:
    cgroup_tree(std::filesystem::path dir, bool has_kill) : dir_(std::move(dir)), has_kill_(has_kill) {}
    std::filesystem::path dir_;
    bool has_kill_ = false;
};

/// Kills every process in cgroup `dir` and its children (cgroup.kill, or SIGKILL to each listed
/// process on older kernels), waits up to `wait_ms` for it to empty and removes it. Returns how
/// many processes were in it; 0, doing nothing, when the directory does not exist.
std::size_t kill_cgroup(const std::filesystem::path& dir, std::int64_t wait_ms);

}  // namespace orbitmesh::engine::agent
