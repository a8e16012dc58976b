#pragma once
#include <sys/types.h>

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "engine/agent/cgroup_tree.hpp"
#include "engine/agent/fork_server.hpp"
#include "engine/agent/job_records.hpp"

namespace orbitmesh::engine::agent {

/// One job attempt's containment while its processes exist. Move-only; closes its descriptors.
struct containment_ticket {
    containment_ticket() = default;
    containment_ticket(containment_ticket&& o) noexcept;
    containment_ticket& operator=(containment_ticket&& o) noexcept;
    ~containment_ticket();
    /// Closes the cgroup descriptors (once the supervisor has its copies).
    void close_fds() noexcept;

    bool active = false;  // begin() ran: end() has work to do
    std::filesystem::path record_file;
    job_record record;
    int cgroup_procs_fd = -1;  // for the supervisor: the job joins its cgroup through it
    int cgroup_kill_fd = -1;
    int record_fd = -1;  // the record, open until the end, rewritten in place once the group exists
};

/// What keeps a job's processes from outliving the agent beyond its supervisor (SPEC §3, §12):
/// a record per running attempt in `DATA_DIR/running/`, written before the process exists, so a
/// restart can kill what a crash of both the agent and its supervisors left; and a cgroup v2 per
/// attempt where the agent may create one, so even processes that left the job's process group
/// (setsid, double fork) end with the job. Thread-safe: watcher threads call it at once.
class job_containment {
public:
    struct options {
        std::filesystem::path records_dir;
        std::string agent_id;
        bool cgroups = true;  // false: process groups only (`agent --cgroups off`)
        bool fork_server = false;  // start one for the supervisors (else child_process forks them)
    };
    /// An earlier run's attempt found at start-up, and how many of its processes were killed.
    struct leftover {
        std::string job_id;
        int attempt = 0;
        std::size_t killed = 0;
    };

    /// Creates the records dir (throws core::error{storage}) and, with `cgroups`, the agent's cgroup
    /// directory when this machine allows it (else describe() says why not); then, with
    /// `fork_server`, starts it: construct this before the process starts threads.
    explicit job_containment(const options& o);
    ~job_containment();
    job_containment(const job_containment&) = delete;
    job_containment& operator=(const job_containment&) = delete;

    /// How jobs are contained, for the start-up log line.
    std::string describe() const;
    bool uses_cgroups() const { return tree_.has_value(); }
    /// The fork server for supervisors, or null.
    fork_server* spawner() const { return spawner_.get(); }

    /// Before a job's process exists: creates its cgroup and writes its record. Never throws: a
    /// failure is logged and the job runs with the rest (its supervisor still holds its group).
    containment_ticket begin(const std::string& job_id, int attempt);
    /// The job's process exists: its group id and start time go into the record.
    void started(containment_ticket& t, pid_t pgid);
    /// The supervisor has exited: kills what is left in the cgroup (and in the recorded group when
    /// the supervisor died before it could), removes the cgroup and the record.
    void end(containment_ticket& t, bool supervisor_lost);

    /// At start-up, before `hello`: kills whatever earlier runs of this agent left behind (each
    /// recorded group, checked to be the job's own by its leader's start time or the job's id in
    /// the environment, and every cgroup of this agent), waits (bounded) until it is gone and
    /// removes the records. The attempts returned were running when that agent ended: lost.
    std::vector<leftover> kill_leftovers();

private:
    job_records records_;
    std::string boot_id_;
    std::optional<cgroup_tree> tree_;
    std::string why_no_cgroups_;
    std::unique_ptr<fork_server> spawner_;  // last: ends first, then the cgroup dir can go
};

}  // namespace orbitmesh::engine::agent
