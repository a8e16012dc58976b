#include "engine/agent/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/clock.hpp"
#include "engine/agent/line_splitter.hpp"

namespace orbitmesh::engine::agent {

namespace {

// How long output may keep arriving after the main process exited (from background children
// still holding the pipes) before the rest of the group is killed.
constexpr std::int64_t linger_ms = 250;
// Poll tick used only when pidfd_open is unavailable.
constexpr int exit_poll_ms = 20;

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

/// Moves a descriptor above 0..2, so dup2() onto a standard descriptor in the child always
/// produces a fresh, inheritable copy even when the agent itself runs with stdio closed.
int above_stdio(int fd) {
    if (fd > 2) return fd;
    int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
    ::close(fd);
    return moved;
}

int make_pipe(int fds[2]) {
    if (::pipe2(fds, O_CLOEXEC) != 0) return errno;
    fds[0] = above_stdio(fds[0]);
    fds[1] = above_stdio(fds[1]);
    return fds[0] < 0 || fds[1] < 0 ? EMFILE : 0;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

/// Signals a job should start with default dispositions even if the agent ignores them.
sigset_t default_signals() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP,
                    SIGTTIN, SIGTTOU, SIGXFSZ})
        sigaddset(&set, sig);
    return set;
}

/// posix_spawn (vfork-fast, and it reports exec failures such as ENOENT as its result) into a
/// new session, with the given stdio, no other inherited descriptors and default signal handling.
int spawn_with(process_spec& spec, int in_fd, int out_fd, int err_fd, pid_t& pid) {
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_adddup2(&fa, err_fd, 2);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&fa, spec.cwd.c_str());
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    sigset_t none, defaults = default_signals();
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.env);
    int rc = spec.search_path ? posix_spawnp(&pid, argv[0], &fa, &attr, argv.data(), envp.data())
                              : posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    return rc;
}

/// Pids spawned and not yet reaped by a child_process. Spawning and reaping orphans both hold
/// the lock, so the orphan reaper never takes a child whose watcher has not registered it yet.
struct owned_pids {
    std::mutex mu;
    std::set<pid_t> pids;
};

owned_pids& owned() {
    static owned_pids o;
    return o;
}

}  // namespace

void child_process::reap_orphans() {
    std::error_code ec;
    std::lock_guard lock(owned().mu);
    for (const auto& task : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        std::ifstream in(task.path() / "children");
        for (pid_t pid; in >> pid;) {
            if (owned().pids.count(pid) == 0) ::waitpid(pid, nullptr, WNOHANG);
        }
    }
}

struct child_process::watch_state {
    pid_t pid = -1;
    int pidfd = -1;
    int out_fd = -1;
    int err_fd = -1;
    int in_fd = -1;
    std::size_t in_off = 0;
    line_splitter out_lines;
    line_splitter err_lines;
    bool term_sent = false;
    bool kill_sent = false;
    std::int64_t kill_deadline = 0;
    bool exited = false;
    std::int64_t linger_deadline = 0;
    process_exit result;
};

child_process::child_process(process_spec spec, line_fn on_line, exit_fn on_exit)
    : spec_(std::move(spec)), on_line_(std::move(on_line)), on_exit_(std::move(on_exit)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { run(); });
}

child_process::~child_process() {
    terminate(0);
    if (thread_.joinable()) {
        // The last owner may be the watcher's own exit callback; a thread cannot join itself.
        if (thread_.get_id() == std::this_thread::get_id())
            thread_.detach();
        else
            thread_.join();
    }
    close_fd(wake_fd_);
}

void child_process::terminate(std::int64_t grace_ms) {
    {
        std::lock_guard lock(mu_);
        if (stop_requested_) return;
        stop_requested_ = true;
        grace_ms_ = std::max<std::int64_t>(0, grace_ms);
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void child_process::run() {
    // A write to a closed stdin pipe must give EPIPE here, not kill the agent.
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, nullptr);

    watch_state w;
    if (int rc = spawn(w); rc != 0) {
        w.result.spawn_errno = rc;
    } else {
        w.result.spawned = true;
        watch(w);
        reap(w, w.result);
    }
    // Nothing below may touch members: the callback can release the last owner of `this`.
    on_line_ = nullptr;
    auto done = std::move(on_exit_);
    done(std::move(w.result));
}

int child_process::spawn(watch_state& w) {
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
    int rc = make_pipe(out);
    if (rc == 0) rc = make_pipe(err);
    if (rc == 0 && spec_.stdin_data) rc = make_pipe(in);
    if (rc == 0 && !spec_.stdin_data) {
        in[0] = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (in[0] < 0) rc = errno;
    }
    pid_t pid = -1;
    if (rc == 0) {
        std::lock_guard lock(owned().mu);
        rc = spawn_with(spec_, in[0], out[1], err[1], pid);
        if (rc == 0) owned().pids.insert(pid);
    }
    close_fd(in[0]);
    close_fd(out[1]);
    close_fd(err[1]);
    if (rc != 0) {
        close_fd(in[1]);
        close_fd(out[0]);
        close_fd(err[0]);
        return rc;
    }
    w.pid = pid;
    w.out_fd = out[0];
    w.err_fd = err[0];
    w.in_fd = in[1];
    if (w.in_fd >= 0) ::fcntl(w.in_fd, F_SETFL, ::fcntl(w.in_fd, F_GETFL) | O_NONBLOCK);
    // glibc 2.36's <sys/pidfd.h> lacks extern "C", so call it directly; -1 on old kernels means
    // falling back to a poll tick.
    w.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    return 0;
}

void child_process::watch(watch_state& w) {
    for (;;) {
        pollfd fds[5];
        int n = 0;
        auto add = [&](int fd, short events) {
            if (fd >= 0) fds[n++] = pollfd{fd, events, 0};
        };
        add(w.out_fd, POLLIN);
        add(w.err_fd, POLLIN);
        add(w.in_fd, POLLOUT);
        add(w.exited ? -1 : w.pidfd, POLLIN);
        add(wake_fd_, POLLIN);

        auto now = core::steady_ms();
        std::int64_t timeout = -1;
        auto until = [&](std::int64_t deadline) {
            auto left = std::max<std::int64_t>(0, deadline - now);
            timeout = timeout < 0 ? left : std::min(timeout, left);
        };
        if (!w.exited && w.pidfd < 0) until(now + exit_poll_ms);
        if (w.term_sent && !w.kill_sent) until(w.kill_deadline);
        if (w.exited) until(w.linger_deadline);

        if (::poll(fds, static_cast<nfds_t>(n), static_cast<int>(timeout)) < 0 && errno != EINTR) break;
        std::uint64_t drained;
        while (::read(wake_fd_, &drained, sizeof drained) > 0) {
        }
        apply_stop_request(w);
        for (int i = 0; i < n; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == w.out_fd)
                read_pipe(w, 1);
            else if (fds[i].fd == w.err_fd)
                read_pipe(w, 2);
            else if (fds[i].fd == w.in_fd)
                write_stdin(w);
        }
        if (!w.exited) {
            siginfo_t info{};
            // WNOWAIT leaves a zombie, so the group id stays ours until reap() kills the rest.
            int rc = ::waitid(P_PID, static_cast<id_t>(w.pid), &info, WEXITED | WNOHANG | WNOWAIT);
            // ECHILD means someone else reaped it: never spin on a child that is gone.
            if ((rc == 0 && info.si_pid == w.pid) || (rc < 0 && errno == ECHILD)) {
                w.exited = true;
                w.linger_deadline = core::steady_ms() + linger_ms;
            }
        }
        bool pipes_done = w.out_fd < 0 && w.err_fd < 0;
        if (w.exited && (pipes_done || core::steady_ms() >= w.linger_deadline)) break;
    }
}

void child_process::apply_stop_request(watch_state& w) {
    bool requested;
    std::int64_t grace;
    {
        std::lock_guard lock(mu_);
        requested = stop_requested_;
        grace = grace_ms_;
    }
    auto now = core::steady_ms();
    if (requested && !w.term_sent && !w.exited) {
        ::kill(-w.pid, SIGTERM);
        w.term_sent = true;
        w.kill_deadline = now + grace;
    }
    if (w.term_sent && !w.kill_sent && now >= w.kill_deadline) {
        ::kill(-w.pid, SIGKILL);
        w.kill_sent = true;
    }
}

void child_process::read_pipe(watch_state& w, int which) {
    int& fd = which == 1 ? w.out_fd : w.err_fd;
    auto& lines = which == 1 ? w.out_lines : w.err_lines;
    bool is_err = which == 2;
    auto emit = [&](std::string line) {
        if (is_err && !line.empty()) w.result.last_stderr_line = line.substr(0, 500);
        if (on_line_) on_line_(is_err, std::move(line));
    };
    char buf[64 * 1024];
    auto got = ::read(fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (got <= 0) {
        lines.flush(emit);
        close_fd(fd);
        return;
    }
    std::string_view chunk(buf, static_cast<std::size_t>(got));
    if (!is_err) {
        auto& tail = w.result.stdout_tail;
        tail.append(chunk);
        // Trim in big steps so keeping the tail stays linear in the output size.
        if (tail.size() > 2 * max_captured) {
            tail.erase(0, tail.size() - max_captured);
            w.result.stdout_truncated = true;
        }
    }
    lines.feed(chunk, emit);
}

void child_process::write_stdin(watch_state& w) {
    const auto& data = *spec_.stdin_data;
    while (w.in_off < data.size()) {
        auto n = ::write(w.in_fd, data.data() + w.in_off, data.size() - w.in_off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) return;
        if (n < 0) break;  // EPIPE: the process does not read its stdin
        w.in_off += static_cast<std::size_t>(n);
    }
    close_fd(w.in_fd);
}

void child_process::reap(watch_state& w, process_exit& out) {
    // Whatever is left of the group dies with the job (see the class comment).
    ::kill(-w.pid, SIGKILL);
    int status = 0;
    pid_t got;
    while ((got = ::waitpid(w.pid, &status, 0)) < 0 && errno == EINTR) {
    }
    {
        std::lock_guard lock(owned().mu);
        owned().pids.erase(w.pid);
    }
    if (got != w.pid) {
        out.exit_code = -1;  // reaped elsewhere: the status is unknown
    } else if (WIFEXITED(status)) {
        out.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        out.term_signal = WTERMSIG(status);
        out.exit_code = 128 + out.term_signal;
    }
    auto emit_out = [&](std::string line) {
        if (on_line_) on_line_(false, std::move(line));
    };
    w.out_lines.flush(emit_out);
    w.err_lines.flush([&](std::string line) {
        if (!line.empty()) out.last_stderr_line = line.substr(0, 500);
        if (on_line_) on_line_(true, std::move(line));
    });
    if (out.stdout_tail.size() > max_captured) {
        out.stdout_tail.erase(0, out.stdout_tail.size() - max_captured);
        out.stdout_truncated = true;
    }
    close_fd(w.out_fd);
    close_fd(w.err_fd);
    close_fd(w.in_fd);
    close_fd(w.pidfd);
}

}  // namespace orbitmesh::engine::agent
