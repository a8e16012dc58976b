#pragma once
#include <atomic>
#include <filesystem>
#include <memory>
#include <string>

#include "engine/agent/job_supervisor.hpp"

namespace orbitmesh::engine::agent {

/// A small process forked once, when the agent starts and is still small and single-threaded,
/// that forks the job supervisors on request. Forking the running agent for every job instead
/// made each page the agent then wrote a copy-on-write fault with a TLB shootdown across its
/// threads: it doubled the CPU a `sh -c true` job costs. The server ends when its socket closes
/// (the agent is done, or dead), after removing the agent's cgroup directory once its supervisors
/// have removed theirs; the supervisors do not need it: they end when their own pipe to the agent
/// closes. Thread-safe.
class fork_server {
public:
    /// Starts the server; nullptr when it cannot (the caller forks supervisors itself then).
    /// Call before the process starts threads where possible: the server is a copy of it.
    /// `cgroup_root` (may be empty) is removed when the server ends, if it is empty by then.
    static std::unique_ptr<fork_server> start(const std::filesystem::path& cgroup_root = {});
    ~fork_server();
    fork_server(const fork_server&) = delete;
    fork_server& operator=(const fork_server&) = delete;

    /// start_supervisor() through the server: the same contract, except that `out.pid` is 0 (the
    /// supervisor is the server's child, not ours; its status pipe's EOF says it has ended).
    /// Returns 0, or an errno: EMSGSIZE when the request is too big for one message and EPIPE
    /// once the server is gone; the caller then forks the supervisor itself.
    int start_supervisor(const supervisor_launch& launch, supervisor_handle& out);
    /// The server process, for tests and log lines.
    pid_t pid() const { return pid_; }
    /// How long the server waits, after its socket closed, for the cgroup root to empty.
    static constexpr int cleanup_ms = 2000;

private:
    fork_server(pid_t pid, int sock) : pid_(pid), sock_(sock) {}
    pid_t pid_;
    int sock_;
    std::atomic<bool> gone_{false};
};

}  // namespace orbitmesh::engine::agent
