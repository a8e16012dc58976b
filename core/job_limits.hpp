#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/field_reader.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// What one job may use on its agent (SPEC §3 `limits`), per job (`job submit --limit`, the
/// HTTP spec) or per workflow step. 0 = no limit. The agent enforces them (rlimits in the job's
/// process, cgroup v2 limits where it may write them, the output count itself).
struct job_limits {
    std::int64_t cpu_seconds = 0;   // CPU time of each process (RLIMIT_CPU): SIGXCPU, then SIGKILL
    std::int64_t memory_mb = 0;     // address space (RLIMIT_AS); memory.max of the job's cgroup
    std::int64_t output_bytes = 0;  // stdout + stderr the agent reads; also the largest file (RLIMIT_FSIZE)
    std::int64_t files = 0;         // open files of each process (RLIMIT_NOFILE)
    std::int64_t pids = 0;          // processes: pids.max of the job's cgroup, else RLIMIT_NPROC
    bool network = false;           // under `agent --sandbox`: the job asks for the network

    bool empty() const noexcept {
        return cpu_seconds == 0 && memory_mb == 0 && output_bytes == 0 && files == 0 && pids == 0 && !network;
    }
    bool operator==(const job_limits&) const = default;
};

/// The keys of a `limits` map, for "did you mean" and documentation.
inline constexpr std::array<std::string_view, 6> job_limit_keys = {"cpu_seconds", "memory_mb", "output_bytes",
                                                                   "files",       "pids",      "network"};

/// Only the keys that are set; an object (possibly empty).
json to_json(const job_limits& l);
/// Reads `{cpu_seconds, memory_mb, output_bytes, files, pids, network}` from the map `r` reads
/// (a job's `r.object("limits")`), so errors name the field as every request field is named:
/// `job field "limits.memory_mb" must be an integer from 0 to …, got a string`; unknown keys are
/// refused with "did you mean". Throws core::error of the reader's kind.
job_limits read_job_limits(field_reader r);
/// The same for a whole value named `what` (null = no limits); throws core::error{invalid_input}.
job_limits job_limits_from_json(const json& j, std::string_view what);
/// `cpu_seconds: 2, memory_mb: 64`, for error messages.
std::string describe(const job_limits& l);

}  // namespace orbitmesh::core
