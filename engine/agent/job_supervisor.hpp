#pragma once
#include <sys/types.h>

#include <cstdint>
#include <string>

namespace orbitmesh::engine::agent {

/// What the supervisor needs, all prepared before the fork: after it, the new process may only
/// make async-signal-safe calls (the agent has other threads), so nothing there may allocate.
struct supervisor_launch {
    const char* path = nullptr;  // the program, already looked up in PATH
    char* const* argv = nullptr;
    char* const* envp = nullptr;
    const char* cwd = nullptr;  // nullptr = the agent's own
    int stdin_fd = -1;
    int stdout_fd = -1;
    int stderr_fd = -1;
    int cgroup_procs_fd = -1;  // the job's cgroup.procs: its process joins the cgroup before exec
    int cgroup_kill_fd = -1;   // the job's cgroup.kill: written whenever the group is killed
    const char* cgroup_dir = nullptr;  // removed once the job is over, even when the agent is gone
};

/// A running supervisor as the agent holds it. The agent owns both descriptors.
struct supervisor_handle {
    pid_t pid = -1;
    int control_fd = -1;  // agent → supervisor: supervisor_terminate / supervisor_kill bytes
    int status_fd = -1;   // supervisor → agent: supervisor_report records; EOF once it is gone
};

/// One fixed-size record on status_fd (smaller than PIPE_BUF, so written atomically).
struct supervisor_report {
    enum kind_t : std::int32_t { started = 1, spawn_failed = 2, exited = 3 };
    enum stage_t : std::int32_t { stage_exec = 0, stage_cwd = 1, stage_cgroup = 2, stage_setup = 3 };
    std::int32_t kind = 0;
    std::int32_t pid = 0;     // the job's process, which leads its own process group
    std::int32_t value = 0;   // spawn_failed: errno; exited: exit status (0 when signalled)
    std::int32_t signal = 0;  // exited: the signal that ended it, 0 when it exited
    std::int32_t stage = 0;   // spawn_failed: which step failed
};

/// Sent on control_fd: SIGTERM / SIGKILL to the job's process group (and cgroup, for SIGKILL).
inline constexpr char supervisor_terminate = 'T';
inline constexpr char supervisor_kill = 'K';

/// Forks the supervisor of one job (SPEC §3: no job process outlives its agent). The supervisor
/// starts in its own session, ignoring terminal and termination signals, and starts the job's
/// process in a new session (so its process group is its own) with PR_SET_PDEATHSIG(SIGKILL)
/// towards the supervisor. It reports `started`, then `exited` with the job's status, and keeps
/// the exited leader unreaped so the group id cannot be reused while it still signals it. When
/// control_fd reaches EOF (the agent closed it, or the agent died) it SIGKILLs the group and the
/// cgroup, reaps the leader, removes the cgroup and exits. Returns 0 or an errno. Thread-safe.
int start_supervisor(const supervisor_launch& launch, supervisor_handle& out);

/// Turns a freshly forked process into the supervisor of `launch` (what start_supervisor's child
/// runs; the fork server's children too). `control_fd` / `status_fd` are its ends of the two
/// pipes. Async-signal-safe; never returns.
[[noreturn]] void become_supervisor(const supervisor_launch& launch, int control_fd, int status_fd);

/// Looks `program` up in the agent's PATH as execvp would ("/" in it: taken as is). Returns 0 and
/// sets `path`, or ENOENT / EACCES.
int resolve_program(const std::string& program, std::string& path);

/// What a spawn_failed stage means, for error messages ("cannot enter the working directory").
const char* describe_stage(std::int32_t stage) noexcept;

}  // namespace orbitmesh::engine::agent
