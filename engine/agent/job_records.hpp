#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace orbitmesh::engine::agent {

/// What the agent knows of one running job attempt's processes, kept in `DATA_DIR/running/` so a
/// later start of the agent can find and kill them (SPEC §3, §12).
struct job_record {
    std::string job_id;
    int attempt = 0;
    std::string boot_id;       // /proc/sys/kernel/random/boot_id: after a reboot nothing is left
    std::int64_t pgid = 0;     // the job's process group; 0 until its process exists
    std::uint64_t start_time = 0;  // the group leader's start (/proc/PID/stat field 22), to tell it from a reused PID
    std::string cgroup;        // the job's cgroup v2 directory; empty = none
};

/// The record files: one per attempt, written with one write(2) each (a crash of the agent cannot
/// tear a system call, and a record only ever grows). They are not fsynced: they matter after a
/// crash of the agent, which leaves the page cache intact, and after a reboot no job process is
/// left anyway. Thread-safe (one file per attempt).
class job_records {
public:
    /// Creates `dir` when missing; throws core::error{storage} when that fails.
    explicit job_records(std::filesystem::path dir);

    const std::filesystem::path& dir() const { return dir_; }
    /// The file of one attempt: `JOB.ATTEMPT`, with characters outside [A-Za-z0-9._-] replaced.
    std::filesystem::path file_for(const std::string& job_id, int attempt) const;
    /// Creates (or replaces) the record and returns its open descriptor, or -1 with `error` set.
    int create(const std::filesystem::path& file, const job_record& r, std::string& error) const;
    /// Replaces the content of an open record in place; returns an error message, empty on success.
    std::string rewrite(int fd, const std::filesystem::path& file, const job_record& r) const;
    /// create() and close: returns an error message, empty on success.
    std::string write(const std::filesystem::path& file, const job_record& r) const;
    void remove(const std::filesystem::path& file) const noexcept;
    /// Every record file with its content; nullopt for one that cannot be read or parsed.
    std::vector<std::pair<std::filesystem::path, std::optional<job_record>>> load_all() const;

private:
    std::filesystem::path dir_;
};

/// This boot's id, or "" where /proc does not tell.
std::string current_boot_id();

}  // namespace orbitmesh::engine::agent
