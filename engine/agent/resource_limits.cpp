#include "engine/agent/resource_limits.hpp"

#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "engine/agent/child_process.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

void add(supervisor_launch& launch, int resource, std::uint64_t soft, std::uint64_t hard) {
    if (launch.rlimit_count >= max_job_rlimits) return;
    launch.rlimits[launch.rlimit_count++] = job_rlimit{resource, soft, hard};
}

bool write_file(const fs::path& file, const std::string& value) {
    std::error_code ec;
    if (!fs::exists(file, ec)) return false;
    std::ofstream out(file);
    out << value;
    out.flush();
    return static_cast<bool>(out);
}

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

/// A memory-limited process that died this way most likely ran out: allocations past RLIMIT_AS
/// fail, and programs abort, crash or say so on stderr. A heuristic, stated as such in the docs:
/// only the cgroup's OOM count is proof.
bool looks_out_of_memory(const process_exit& ex) {
    if (ex.term_signal == SIGKILL || ex.term_signal == SIGSEGV || ex.term_signal == SIGABRT || ex.term_signal == SIGBUS)
        return true;
    auto line = lower(ex.last_stderr_line);
    for (const char* word : {"memory", "alloc", "out of space", "enomem"})
        if (line.find(word) != std::string::npos) return true;
    return false;
}

}  // namespace

void set_rlimits(const core::job_limits& l, bool address_space, supervisor_launch& launch) {
    launch.rlimit_count = 0;
    if (l.cpu_seconds > 0)
        add(launch, RLIMIT_CPU, static_cast<std::uint64_t>(l.cpu_seconds), static_cast<std::uint64_t>(l.cpu_seconds) + 1);
    if (l.memory_mb > 0 && address_space) {
        auto bytes = static_cast<std::uint64_t>(l.memory_mb) << 20;
        add(launch, RLIMIT_AS, bytes, bytes);
    }
    if (l.output_bytes > 0)
        add(launch, RLIMIT_FSIZE, static_cast<std::uint64_t>(l.output_bytes), static_cast<std::uint64_t>(l.output_bytes));
    if (l.files > 0) add(launch, RLIMIT_NOFILE, static_cast<std::uint64_t>(l.files), static_cast<std::uint64_t>(l.files));
    if (l.pids > 0) add(launch, RLIMIT_NPROC, static_cast<std::uint64_t>(l.pids), static_cast<std::uint64_t>(l.pids));
}

std::string apply_cgroup_limits(const fs::path& dir, const core::job_limits& l) {
    std::string missing;
    if (l.memory_mb > 0) {
        if (write_file(dir / "memory.max", std::to_string(l.memory_mb << 20)))
            write_file(dir / "memory.swap.max", "0");
        else
            missing += "memory.max";
    }
    if (l.pids > 0 && !write_file(dir / "pids.max", std::to_string(l.pids)))
        missing += std::string(missing.empty() ? "" : ", ") + "pids.max";
    return missing;
}

bool cgroup_oom_killed(const fs::path& dir) {
    std::ifstream in(dir / "memory.events");
    std::string key;
    long long count = 0;
    while (in >> key >> count)
        if (key == "oom_kill" && count > 0) return true;
    return false;
}

std::string limit_exceeded(const core::job_limits& l, const process_exit& ex) {
    auto named = [](const char* what, const char* key, std::int64_t v) {
        return std::string("over its ") + what + " limit (" + key + ": " + std::to_string(v) + ")";
    };
    if (ex.output_limit_hit) return named("output", "output_bytes", l.output_bytes);
    if (ex.oom_killed) return named("memory", "memory_mb", l.memory_mb) + ": killed by the kernel's OOM killer";
    if (l.cpu_seconds > 0 && ex.term_signal == SIGXCPU) return named("CPU", "cpu_seconds", l.cpu_seconds);
    if (l.output_bytes > 0 && ex.term_signal == SIGXFSZ)
        return named("output", "output_bytes", l.output_bytes) + ": a file grew past it";
    if (l.memory_mb > 0 && ex.exit_code != 0 && looks_out_of_memory(ex))
        return named("memory", "memory_mb", l.memory_mb) + ": an allocation past it was refused";
    return {};
}

}  // namespace orbitmesh::engine::agent
