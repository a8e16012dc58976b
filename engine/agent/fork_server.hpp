#pragma once
#include <atomic>
#include <memory>

#include "engine/agent/job_supervisor.hpp"

namespace orbitmesh::engine::agent {

/// A small process forked once, when the agent starts and is still small and single-threaded,
/// that forks the job supervisors on request. Forking the running agent for every job instead
/// made each page the agent then wrote a copy-on-write fault with a TLB shootdown across its
/// threads: it doubled the CPU a `sh -c true` job costs. The server dies with the agent
/// (PR_SET_PDEATHSIG) and when its socket closes; the supervisors it forked do not need it: they
/// end when their own pipe to the agent closes. Thread-safe.
class fork_server {
public:
    /// Starts the server; nullptr when it cannot (the caller forks supervisors itself then).
    /// Call before the process starts threads where possible: the server is a copy of it.
    static std::unique_ptr<fork_server> start();
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

private:
    fork_server(pid_t pid, int sock) : pid_(pid), sock_(sock) {}
    pid_t pid_;
    int sock_;
    std::atomic<bool> gone_{false};
};

}  // namespace orbitmesh::engine::agent
