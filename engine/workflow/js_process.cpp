// A child process under kernel limits, fed on stdin and read to its end with a wall-clock bound.
#include "engine/workflow/js_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace orbitmesh::engine {

namespace {

std::int64_t steady_ms() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

struct fd_pair {
    int read = -1;
    int write = -1;
};

fd_pair make_pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return {};
    return {fds[0], fds[1]};
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

void set_limit(int resource, std::uint64_t value) {
    rlimit lim{static_cast<rlim_t>(value), static_cast<rlim_t>(value)};
    ::setrlimit(resource, &lim);
}

// In the child between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const sandbox_spec& spec, char* const* argv, char* const* envp, int in, int out, int err,
                             int report) {
    ::setsid();
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::dup2(report, 3);
    ::fcntl(3, F_SETFD, FD_CLOEXEC);
    ::syscall(SYS_close_range, 4u, ~0u, 0u);
    if (::chdir("/") != 0) {}
    const auto& l = spec.limits;
    if (l.address_space_bytes > 0) set_limit(RLIMIT_AS, l.address_space_bytes);
    if (l.cpu_seconds > 0) {
        rlimit cpu{static_cast<rlim_t>(l.cpu_seconds), static_cast<rlim_t>(l.cpu_seconds + 1)};
        ::setrlimit(RLIMIT_CPU, &cpu);
    }
    if (l.open_files > 0) set_limit(RLIMIT_NOFILE, l.open_files);
    if (l.no_file_writes) set_limit(RLIMIT_FSIZE, 0);
    set_limit(RLIMIT_CORE, 0);
    ::signal(SIGPIPE, SIG_DFL);
    ::execve(argv[0], argv, envp);
    int e = errno;
    if (::write(3, &e, sizeof e) < 0) {}
    ::_exit(127);
}

std::vector<char*> c_strings(const std::vector<std::string>& in) {
    std::vector<char*> out;
    out.reserve(in.size() + 1);
    for (const auto& s : in) out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

struct pump {
    int in = -1, out = -1, err = -1;
    std::size_t written = 0;
};

// Reads what is there; false at EOF or error. Keeps at most `cap` bytes, flags the rest.
bool drain(int fd, std::string& into, std::size_t cap, bool& overflow) {
    char buf[16384];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            std::size_t room = into.size() < cap ? cap - into.size() : 0;
            into.append(buf, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
            if (static_cast<std::size_t>(n) > room) overflow = true;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        return n < 0 && errno == EAGAIN;
    }
}

void feed(pump& p, const std::string& data) {
    while (p.in >= 0 && p.written < data.size()) {
        ssize_t n = ::write(p.in, data.data() + p.written, data.size() - p.written);
        if (n > 0) {
            p.written += static_cast<std::size_t>(n);
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else {
            if (n < 0 && errno == EAGAIN) return;
            break;  // EPIPE: the child stopped reading
        }
    }
    close_fd(p.in);
}

// Polls the pipes until both outputs reach EOF, the deadline passes, the caller cancels or stdout
// overflows. Returns false when the child must be killed.
bool watch(const sandbox_spec& spec, pump& p, sandbox_exit& ex) {
    const std::int64_t deadline = steady_ms() + spec.wall_ms;
    bool err_overflow = false;
    feed(p, spec.stdin_data);
    while (p.out >= 0 || p.err >= 0) {
        if (spec.cancel && spec.cancel->load()) return !(ex.cancelled = true);
        const std::int64_t left = deadline - steady_ms();
        if (left <= 0) return !(ex.wall_killed = true);
        pollfd fds[3];
        nfds_t n = 0;
        if (p.out >= 0) fds[n++] = {p.out, POLLIN, 0};
        if (p.err >= 0) fds[n++] = {p.err, POLLIN, 0};
        if (p.in >= 0) fds[n++] = {p.in, POLLOUT, 0};
        int r = ::poll(fds, n, static_cast<int>(std::min<std::int64_t>(left, 50)));
        if (r < 0 && errno != EINTR) return false;
        if (p.in >= 0) feed(p, spec.stdin_data);
        if (p.out >= 0 && !drain(p.out, ex.out, spec.max_stdout, ex.stdout_overflow)) close_fd(p.out);
        if (p.err >= 0 && !drain(p.err, ex.err, spec.max_stderr, err_overflow)) close_fd(p.err);
        if (ex.stdout_overflow) return false;
    }
    return true;
}

void reap(pid_t pid, bool kill_first, std::int64_t wait_ms, sandbox_exit& ex) {
    if (kill_first) ::kill(-pid, SIGKILL);
    const std::int64_t until = steady_ms() + wait_ms;
    int status = 0;
    for (;;) {
        pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) break;
        if (r < 0 && errno != EINTR) return;
        if (steady_ms() >= until) {
            ::kill(-pid, SIGKILL);
            ::waitpid(pid, &status, 0);
            break;
        }
        ::usleep(2000);
    }
    if (WIFEXITED(status)) ex.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) ex.term_signal = WTERMSIG(status);
}

}  // namespace

sandbox_exit run_sandboxed(const sandbox_spec& spec) {
    sandbox_exit ex;
    fd_pair in = make_pipe(), out = make_pipe(), err = make_pipe(), report = make_pipe();
    auto argv = c_strings(spec.argv);
    auto envp = c_strings(spec.env);
    if (in.read < 0 || out.read < 0 || err.read < 0 || report.read < 0 || spec.argv.empty()) {
        ex.spawn_errno = spec.argv.empty() ? EINVAL : errno;
        for (int* fd : {&in.read, &in.write, &out.read, &out.write, &err.read, &err.write, &report.read, &report.write}) close_fd(*fd);
        return ex;
    }
    pid_t pid = ::fork();
    if (pid == 0) exec_child(spec, argv.data(), envp.data(), in.read, out.write, err.write, report.write);
    for (int* fd : {&in.read, &out.write, &err.write, &report.write}) close_fd(*fd);
    if (pid < 0) {
        ex.spawn_errno = errno;
        for (int* fd : {&in.write, &out.read, &err.read, &report.read}) close_fd(*fd);
        return ex;
    }
    int child_errno = 0;
    ssize_t got = ::read(report.read, &child_errno, sizeof child_errno);  // EOF once exec succeeded
    close_fd(report.read);
    pump p{in.write, out.read, err.read};
    for (int fd : {p.in, p.out, p.err}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (got == static_cast<ssize_t>(sizeof child_errno)) {
        ex.spawn_errno = child_errno;
        for (int* fd : {&p.in, &p.out, &p.err}) close_fd(*fd);
        reap(pid, false, 1000, ex);
        return ex;
    }
    ex.spawned = true;
    const bool clean = watch(spec, p, ex);
    for (int* fd : {&p.in, &p.out, &p.err}) close_fd(*fd);
    reap(pid, !clean, 1000, ex);
    return ex;
}

}  // namespace orbitmesh::engine
