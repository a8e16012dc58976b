#pragma once
#include <condition_variable>
#include <cstddef>
#include <filesystem>
#include <mutex>
#include <thread>

#include <SQLiteCpp/Database.h>

namespace orbitmesh::store::sqlite {

/// Copies the WAL back into the database (PASSIVE checkpoint) from its own connection and thread,
/// so no commit ever pays for it: SQLite's automatic checkpoint would run inside a commit.
/// It runs after `commits_per_checkpoint` commits or once a quiet interval passes with any commit.
class checkpointer {
public:
    /// Opens its connection and starts its thread. Throws core::error{storage}.
    checkpointer(const std::filesystem::path& file, bool sync_full);
    /// Stops the thread (waiting out a checkpoint in progress) and closes the connection.
    ~checkpointer();
    checkpointer(const checkpointer&) = delete;
    checkpointer& operator=(const checkpointer&) = delete;

    /// Tells it a transaction committed. Thread-safe and cheap: called by the writer per commit.
    void committed();
    /// Waits out a checkpoint in progress and keeps the next one from starting while held: for
    /// the writer's own checkpoint, which SQLite would refuse (BUSY) while another runs.
    std::unique_lock<std::mutex> hold() { return std::unique_lock(running_); }

private:
    void run();

    SQLite::Database db_;
    std::mutex mutex_;
    std::mutex running_;  // held during a checkpoint
    std::condition_variable wake_;
    std::size_t commits_ = 0;  // since the last checkpoint
    bool stop_ = false;
    std::thread thread_;
};

}  // namespace orbitmesh::store::sqlite
