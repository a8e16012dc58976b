#pragma once
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace orbitmesh::engine::agent {

/// One process as /proc/PID/stat shows it.
struct proc_info {
    pid_t pid = 0;
    pid_t pgrp = 0;
    char state = '?';              // 'Z' for a zombie
    std::uint64_t start_time = 0;  // clock ticks after boot
};

/// /proc/PID/stat of one process; nullopt when it is gone.
std::optional<proc_info> read_proc(pid_t pid);
/// Every process this process may see, read from /proc (zombies included).
std::vector<proc_info> list_procs();
/// The values of `keys` in /proc/PID/environ, in the same order; "" for a key it lacks, and all
/// "" when it cannot be read (gone, or not ours to read).
std::vector<std::string> environ_values(pid_t pid, const std::vector<std::string>& keys);
/// True when `pid` exists and is not a zombie.
bool proc_alive(pid_t pid);

}  // namespace orbitmesh::engine::agent
