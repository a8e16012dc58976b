#include "engine/agent/job_supervisor.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <cstdlib>
#include <string_view>

// The unnamed namespace's first part and become_supervisor() run in a process forked from a
// multithreaded agent (or from its fork server): only async-signal-safe calls (plain system
// calls), no allocation, no exceptions, no locks. start_supervisor() and resolve_program() run
// in the agent.

namespace orbitmesh::engine::agent {

namespace {

// The supervisor's descriptors after arrange_fds(): the job's stdio at 0..2, then these.
constexpr int fd_control = 3;
constexpr int fd_status = 4;
constexpr int fd_cgroup_procs = 5;
constexpr int fd_cgroup_kill = 6;
constexpr int fd_count = 7;
// Poll tick for the job's exit, only where pidfd_open is missing (Linux < 5.3).
constexpr int exit_poll_ms = 20;
constexpr std::size_t job_stack_bytes = 64 * 1024;
constexpr int cgroup_rmdir_tries = 25;  // 2 ms apart
// The job process's stack between clone and exec. Static, so it does not depend on the watcher
// thread's stack size; only ever touched in a supervisor, where it is that process's own copy.
alignas(64) char job_stack[job_stack_bytes];

/// Shared by the supervisor and the job's process until that one execs (CLONE_VM | CLONE_VFORK:
/// the supervisor sleeps meanwhile, so nothing races on it).
struct job_start {
    const supervisor_launch* launch;
    pid_t supervisor;
    volatile int failed_errno;
    volatile int failed_stage;
};

void write_report(const supervisor_report& r) {
    // EPIPE (the agent is gone) is ignored: SIGPIPE is ignored here and the control EOF decides.
    while (::write(fd_status, &r, sizeof r) < 0 && errno == EINTR) {
    }
}

void close_from(int first) {
    if (::close_range(static_cast<unsigned>(first), ~0U, 0) == 0) return;
    rlimit rl{};
    int max = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 65536 ? static_cast<int>(rl.rlim_cur) : 65536;
    for (int fd = first; fd < max; ++fd) ::close(fd);
}

/// Puts the descriptors the supervisor keeps at their fixed numbers and closes every other one,
/// above all the agent's end of the control pipe, whose EOF is the agent's death.
bool arrange_fds(const supervisor_launch& l, int control, int status) {
    const int want[fd_count] = {l.stdin_fd, l.stdout_fd,         l.stderr_fd,       control,
                                status,     l.cgroup_procs_fd, l.cgroup_kill_fd};
    int high[fd_count];
    for (int i = 0; i < fd_count; ++i) {
        high[i] = want[i] < 0 ? -1 : ::fcntl(want[i], F_DUPFD_CLOEXEC, fd_count);
        if (want[i] >= 0 && high[i] < 0) return false;
    }
    for (int i = 0; i < fd_count; ++i) {
        if (high[i] < 0)
            ::close(i);
        else if (::dup2(high[i], i) < 0)
            return false;
    }
    close_from(fd_count);
    return true;
}

/// The signals the supervisor ignores and the job gets back at their default: those a terminal,
/// a service manager or the agent's own start may send or have set to ignored. Only an ignored
/// signal survives exec, so the job needs no other reset.
constexpr int managed_signals[] = {SIGINT,  SIGTERM, SIGHUP,  SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2,
                                   SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU, SIGXFSZ, SIGXCPU, SIGVTALRM,
                                   SIGPROF, SIGURG,  SIGWINCH};

void set_managed_signals(void (*disposition)(int)) {
    struct sigaction sa {};
    sa.sa_handler = disposition;
    for (int sig : managed_signals) ::sigaction(sig, &sa, nullptr);
    sa.sa_handler = SIG_DFL;  // never ignored: an ignored SIGCHLD would reap children by itself
    ::sigaction(SIGCHLD, &sa, nullptr);
}

[[noreturn]] void job_failed(job_start& s, int stage, int err) {
    s.failed_stage = stage;
    s.failed_errno = err;
    ::_exit(127);
}

/// The job's process between clone and exec.
int job_main(void* arg) {
    auto& s = *static_cast<job_start*>(arg);
    const auto& l = *s.launch;
    if (::setsid() < 0) job_failed(s, supervisor_report::stage_setup, errno);
    // The supervisor is this process's parent: if it dies, this dies (its children are the
    // supervisor's, or the cgroup's, to kill).
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) job_failed(s, supervisor_report::stage_setup, errno);
    if (::getppid() != s.supervisor) ::_exit(127);
    if (l.cgroup_procs_fd >= 0 && ::write(fd_cgroup_procs, "0", 1) != 1)
        job_failed(s, supervisor_report::stage_cgroup, errno);
    set_managed_signals(SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    close_from(3);
    if (l.cwd && ::chdir(l.cwd) != 0) job_failed(s, supervisor_report::stage_cwd, errno);
    ::execve(l.path, l.argv, l.envp);
    job_failed(s, supervisor_report::stage_exec, errno);
}

void kill_group(pid_t job, bool have_cgroup, int sig) {
    ::kill(-job, sig);
    if (sig == SIGKILL && have_cgroup) [[maybe_unused]] auto n = ::write(fd_cgroup_kill, "1", 1);
}

/// rmdir of the job's cgroup once what cgroup.kill killed has exited (bounded: the agent, or its
/// next start, removes what is still busy).
void remove_cgroup(const char* dir) {
    if (!dir) return;
    for (int i = 0; i < cgroup_rmdir_tries; ++i) {
        if (::rmdir(dir) == 0 || errno == ENOENT) return;
        timespec pause{0, 2'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

/// The job's exit, without reaping it: the leader stays a zombie so its group id stays ours.
bool job_exited(pid_t job, supervisor_report& r) {
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(job), &info, WEXITED | WNOHANG | WNOWAIT) != 0 || info.si_pid != job)
        return false;
    r = supervisor_report{supervisor_report::exited, job, 0, 0, 0};
    if (info.si_code == CLD_EXITED)
        r.value = info.si_status;
    else
        r.signal = info.si_status;
    return true;
}

/// Follows the job until the agent closes the control pipe (or dies), applying its commands and
/// reporting the job's exit; `exited` tells whether that report went out.
void follow(pid_t job, bool have_cgroup, bool& exited) {
    int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, job, 0));
    for (;;) {
        pollfd fds[2] = {{fd_control, POLLIN, 0}, {exited ? -1 : pidfd, POLLIN, 0}};
        int timeout = !exited && pidfd < 0 ? exit_poll_ms : -1;
        if (::poll(fds, 2, timeout) < 0 && errno != EINTR) break;
        if (fds[0].revents != 0) {
            char cmds[64];
            auto got = ::read(fd_control, cmds, sizeof cmds);
            if (got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN)) break;
            for (ssize_t i = 0; i < got; ++i)
                kill_group(job, have_cgroup, cmds[i] == supervisor_kill ? SIGKILL : SIGTERM);
        }
        supervisor_report r;
        if (!exited && job_exited(job, r)) {
            exited = true;
            write_report(r);
            if (pidfd >= 0) ::close(pidfd);
            pidfd = -1;
        }
    }
    if (pidfd >= 0) ::close(pidfd);
}

}  // namespace

[[noreturn]] void become_supervisor(const supervisor_launch& l, int control, int status) {
    if (!arrange_fds(l, control, status)) ::_exit(1);
    // Out of the agent's session and deaf to its signals: a Ctrl-C or a SIGTERM meant for the
    // agent must not end the supervisor (the agent stops jobs itself), only its death does.
    ::setsid();
    ::prctl(PR_SET_NAME, "om-supervisor");
    set_managed_signals(SIG_IGN);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);

    job_start s{&l, ::getpid(), 0, 0};
    pid_t job = ::clone(job_main, job_stack + sizeof job_stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &s);
    if (job < 0) {
        write_report({supervisor_report::spawn_failed, 0, errno, 0, supervisor_report::stage_setup});
        ::_exit(0);
    }
    if (s.failed_errno != 0) {
        int st;
        while (::waitpid(job, &st, 0) < 0 && errno == EINTR) {
        }
        write_report({supervisor_report::spawn_failed, job, s.failed_errno, 0, s.failed_stage});
        ::_exit(0);
    }
    // The job's stdio is the job's alone now: its pipes must reach EOF when the job's processes
    // are done, not when the supervisor is.
    for (int fd = 0; fd <= 2; ++fd) ::close(fd);
    write_report({supervisor_report::started, job, 0, 0, 0});
    const bool have_cgroup = l.cgroup_kill_fd >= 0;
    bool reported = false;
    follow(job, have_cgroup, reported);
    // The agent is done with the job, or gone: whatever is left of it dies now.
    kill_group(job, have_cgroup, SIGKILL);
    int st = 0;
    while (::waitpid(job, &st, 0) < 0 && errno == EINTR) {
    }
    remove_cgroup(l.cgroup_dir);
    if (!reported) {
        supervisor_report last{supervisor_report::exited, job, 0, 0, 0};
        if (WIFEXITED(st)) last.value = WEXITSTATUS(st);
        if (WIFSIGNALED(st)) last.signal = WTERMSIG(st);
        write_report(last);
    }
    ::_exit(0);
}

namespace {

void close_pair(int fds[2]) {
    for (int i = 0; i < 2; ++i)
        if (fds[i] >= 0) ::close(fds[i]);
}

}  // namespace

int start_supervisor(const supervisor_launch& launch, supervisor_handle& out) {
    int control[2] = {-1, -1}, status[2] = {-1, -1};
    if (::pipe2(control, O_CLOEXEC) != 0) return errno;
    if (::pipe2(status, O_CLOEXEC) != 0) {
        int err = errno;
        close_pair(control);
        return err;
    }
    // _Fork runs no atfork handlers: the child never touches the allocator or any lock.
    pid_t pid = ::_Fork();
    if (pid == 0) become_supervisor(launch, control[0], status[1]);
    int err = errno;
    ::close(control[0]);
    ::close(status[1]);
    if (pid < 0) {
        ::close(control[1]);
        ::close(status[0]);
        return err;
    }
    out = supervisor_handle{pid, control[1], status[0]};
    return 0;
}

int resolve_program(const std::string& program, std::string& path) {
    if (program.find('/') != std::string::npos) {
        path = program;
        return 0;
    }
    const char* env = std::getenv("PATH");
    std::string_view dirs = env && *env ? env : "/usr/local/bin:/usr/bin:/bin";
    int err = ENOENT;
    for (std::size_t start = 0; start <= dirs.size();) {
        auto end = dirs.find(':', start);
        if (end == std::string_view::npos) end = dirs.size();
        std::string dir(dirs.substr(start, end - start));
        // A relative PATH entry is the agent's, not the job's working directory.
        std::error_code ec;
        std::string candidate = (std::filesystem::absolute(dir.empty() ? "." : dir, ec) / program).string();
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            if (::access(candidate.c_str(), X_OK) == 0) {
                path = std::move(candidate);
                return 0;
            }
            err = EACCES;
        }
        start = end + 1;
    }
    return err;
}

const char* describe_stage(std::int32_t stage) noexcept {
    switch (stage) {
        case supervisor_report::stage_cwd: return "cannot enter the working directory";
        case supervisor_report::stage_cgroup: return "cannot move the job into its cgroup";
        case supervisor_report::stage_setup: return "cannot set up the job's process";
        default: return "cannot run";
    }
}

}  // namespace orbitmesh::engine::agent
