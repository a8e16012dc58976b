#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orbitmesh::engine {

/// Kernel limits put on a sandboxed child before it execs (setrlimit in the child).
struct sandbox_rlimits {
    std::uint64_t address_space_bytes = 0;  // RLIMIT_AS; 0 = inherit
    std::uint64_t cpu_seconds = 0;          // RLIMIT_CPU (SIGXCPU, then SIGKILL); 0 = inherit
    std::uint64_t open_files = 64;          // RLIMIT_NOFILE
    bool no_file_writes = true;             // RLIMIT_FSIZE = 0: writing any byte to a file fails
};

/// One run of a sandboxed program: argv[0] is an absolute path, env is the whole environment.
struct sandbox_spec {
    std::vector<std::string> argv;
    std::vector<std::string> env;
    std::string stdin_data;
    sandbox_rlimits limits;
    std::int64_t wall_ms = 10'000;      // SIGKILL to the process group past this
    std::size_t max_stdout = 1u << 20;  // more than this is cut off (and the child killed)
    std::size_t max_stderr = 64u << 10;
    const std::atomic<bool>* cancel = nullptr;  // when it turns true the child is killed
};

/// How it ended.
struct sandbox_exit {
    bool spawned = false;
    int spawn_errno = 0;
    int exit_code = -1;     // exit status when it exited
    int term_signal = 0;    // the signal that ended it, or 0
    bool wall_killed = false;
    bool cancelled = false;
    bool stdout_overflow = false;
    std::string out;
    std::string err;
};

/// Runs the child to its end and returns what it printed. Blocking: call it from a worker thread,
/// never from an io thread. The child starts in its own session (process group) with cwd `/`,
/// only fds 0-2 (pipes; nothing else is inherited), the given environment and rlimits; the whole
/// group is SIGKILLed on the wall-clock deadline, on cancel or when stdout overflows.
sandbox_exit run_sandboxed(const sandbox_spec& spec);

}  // namespace orbitmesh::engine
