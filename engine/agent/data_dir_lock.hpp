#pragma once
#include <filesystem>

namespace orbitmesh::engine::agent {

/// Holds `DATA_DIR/agent.lock` (flock, exclusive) for the agent's life, so a second agent started
/// on the same data dir stops at once instead of sharing its identity, its outbox and, above all,
/// killing the first one's jobs as "leftovers". The kernel drops the lock when the process dies.
class data_dir_lock {
public:
    /// Creates the data dir when missing and takes the lock. Throws core::error{storage} when the
    /// directory is unusable or another agent holds it (naming that agent's PID).
    explicit data_dir_lock(const std::filesystem::path& data_dir);
    ~data_dir_lock();
    data_dir_lock(const data_dir_lock&) = delete;
    data_dir_lock& operator=(const data_dir_lock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace orbitmesh::engine::agent
