#pragma once
#include <filesystem>
#include <string>

#include "core/job_limits.hpp"
#include "engine/agent/job_supervisor.hpp"

namespace orbitmesh::engine::agent {

struct process_exit;

/// The rlimits that enforce `l` in a job's process (SPEC §3): cpu_seconds → RLIMIT_CPU (SIGXCPU,
/// SIGKILL a second later), memory_mb → RLIMIT_AS (unless `address_space` is false: V8 reserves
/// far more address space than it uses, so node's wasm jobs are bounded by pages instead),
/// output_bytes → RLIMIT_FSIZE, files → RLIMIT_NOFILE, pids → RLIMIT_NPROC (counts every process of
/// the agent's user; ignored for root: the cgroup's pids.max is the real bound). Fills
/// `launch.rlimits`.
void set_rlimits(const core::job_limits& l, bool address_space, supervisor_launch& launch);

/// Writes memory.max (and memory.swap.max 0) and pids.max into a job's cgroup where those
/// controllers are enabled. Returns what could not be applied ("" when everything was).
std::string apply_cgroup_limits(const std::filesystem::path& dir, const core::job_limits& l);

/// memory.events of the job's cgroup counts an OOM kill.
bool cgroup_oom_killed(const std::filesystem::path& dir);

/// Which limit a failed job ran into, as text for its error ("over its CPU limit (cpu_seconds:
/// 2)"), or "" when none explains it. `output_hit` and `oom_killed` are what the agent saw itself;
/// the rest is read from how the process ended.
std::string limit_exceeded(const core::job_limits& l, const process_exit& ex);

}  // namespace orbitmesh::engine::agent
