#include "engine/agent/child_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "core/clock.hpp"
#include "engine/agent/job_containment.hpp"
#include "engine/agent/job_supervisor.hpp"
#include "engine/agent/line_splitter.hpp"

namespace orbitmesh::engine::agent {

namespace {

// How long output may keep arriving after the main process exited (from background children
// still holding the pipes) before the rest of the group is killed.
constexpr std::int64_t linger_ms = 250;

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

/// Moves a descriptor above 0..2, so the supervisor's dup2() onto a standard descriptor always
/// produces a fresh copy even when the agent itself runs with stdio closed.
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

/// The job's stdio pipes; stdin is /dev/null unless it has data. Returns 0 or an errno (the
/// caller closes whatever was opened).
int make_stdio(bool with_stdin, int in[2], int out[2], int err[2]) {
    int rc = make_pipe(out);
    if (rc == 0) rc = make_pipe(err);
    if (rc == 0 && with_stdin) rc = make_pipe(in);
    if (rc == 0 && !with_stdin) {
        in[0] = above_stdio(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        if (in[0] < 0) rc = errno;
    }
    return rc;
}

std::vector<char*> c_strings(std::vector<std::string>& v) {
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

void send_command(int fd, char c) {
    if (fd < 0) return;
    while (::write(fd, &c, 1) < 0 && errno == EINTR) {
    }
}

/// Supervisors spawned and not yet reaped by a child_process. Spawning and reaping orphans both
/// hold the lock, so the orphan reaper never takes a child whose watcher has not registered it yet.
struct owned_pids {
    std::mutex mu;
    std::set<pid_t> pids;
};

owned_pids& owned() {
    static owned_pids o;
    return o;
}

}  // namespace

int child_process::launch(const supervisor_launch& l, supervisor_handle& h) {
    if (auto* server = containment_ ? containment_->spawner() : nullptr) {
        int rc = server->start_supervisor(l, h);
        if (rc != EMSGSIZE && rc != EPIPE) return rc;  // else fork it here
    }
    std::lock_guard lock(owned().mu);
    int rc = start_supervisor(l, h);
    if (rc == 0) owned().pids.insert(h.pid);
    return rc;
}

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
    supervisor_handle sup;
    containment_ticket ticket;
    int out_fd = -1;
    int err_fd = -1;
    int in_fd = -1;
    std::size_t in_off = 0;
    line_splitter out_lines;
    line_splitter err_lines;
    std::string status_buf;  // partial supervisor_report bytes
    bool term_sent = false;
    bool kill_sent = false;
    bool exited = false;           // the job's main process ended (reported by the supervisor)
    bool supervisor_gone = false;  // its status pipe reached EOF
    bool supervisor_lost = false;  // it ended without reporting the job's exit
    std::int64_t linger_deadline = 0;
    process_exit result;
};

child_process::child_process(spawn_plan plan, std::shared_ptr<job_containment> containment, line_fn on_line,
                             exit_fn on_exit)
    : plan_(std::move(plan)),
      containment_(std::move(containment)),
      on_line_(std::move(on_line)),
      on_exit_(std::move(on_exit)) {
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
        auto kill_at = core::steady_ms() + std::max<std::int64_t>(0, grace_ms);
        if (stop_requested_ && kill_at >= kill_at_ms_) return;
        stop_requested_ = true;
        kill_at_ms_ = kill_at;
    }
    std::uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void child_process::run() {
    // A write to a closed pipe must give EPIPE here, not kill the agent.
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
    if (containment_) containment_->end(w.ticket, w.supervisor_lost);
    // Nothing below may touch members: the callback can release the last owner of `this`.
    on_line_ = nullptr;
    auto done = std::move(on_exit_);
    done(std::move(w.result));
}

int child_process::spawn(watch_state& w) {
    // Without a PATH search, a relative program is found from the job's working directory, as
    // exec finds it after the chdir.
    std::string program = plan_.argv.front();
    if (plan_.search_path)
        if (int rc = resolve_program(plan_.argv.front(), program); rc != 0) return rc;
    int out[2] = {-1, -1}, err[2] = {-1, -1}, in[2] = {-1, -1};
    int rc = make_stdio(plan_.stdin_data.has_value(), in, out, err);
    if (rc == 0) {
        if (containment_) w.ticket = containment_->begin(plan_.job_id, plan_.attempt);
        auto argv = c_strings(plan_.argv);
        auto envp = c_strings(plan_.env);
        supervisor_launch l{program.c_str(), argv.data(), envp.data(), plan_.cwd.empty() ? nullptr : plan_.cwd.c_str(),
                            in[0], out[1], err[1], w.ticket.cgroup_procs_fd, w.ticket.cgroup_kill_fd,
                            w.ticket.record.cgroup.empty() ? nullptr : w.ticket.record.cgroup.c_str()};
        rc = launch(l, w.sup);
    }
    w.ticket.close_fds();  // the supervisor has its own copies
    for (int* fd : {&in[0], &out[1], &err[1]}) close_fd(*fd);
    if (rc != 0) {
        for (int* fd : {&in[1], &out[0], &err[0]}) close_fd(*fd);
        return rc;
    }
    w.out_fd = out[0];
    w.err_fd = err[0];
    w.in_fd = in[1];
    if (w.in_fd >= 0) ::fcntl(w.in_fd, F_SETFL, ::fcntl(w.in_fd, F_GETFL) | O_NONBLOCK);
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
        add(w.sup.status_fd, POLLIN);
        add(wake_fd_, POLLIN);

        auto now = core::steady_ms();
        std::int64_t timeout = -1;
        auto until = [&](std::int64_t deadline) {
            auto left = std::max<std::int64_t>(0, deadline - now);
            timeout = timeout < 0 ? left : std::min(timeout, left);
        };
        if (w.term_sent && !w.kill_sent) {
            std::lock_guard lock(mu_);
            until(kill_at_ms_);
        }
        if (w.exited) until(w.linger_deadline);

        if (::poll(fds, static_cast<nfds_t>(n), static_cast<int>(timeout)) < 0 && errno != EINTR) break;
        std::uint64_t drained;
        while (::read(wake_fd_, &drained, sizeof drained) > 0) {
        }
        bool stopping = false;
        {
            std::lock_guard lock(mu_);
            stopping = stop_requested_;
        }
        if (!w.exited) apply_stop_request(w);
        for (int i = 0; i < n; ++i) {
            if (fds[i].revents == 0) continue;
            if (fds[i].fd == w.out_fd)
                read_pipe(w, 1);
            else if (fds[i].fd == w.err_fd)
                read_pipe(w, 2);
            else if (fds[i].fd == w.in_fd)
                write_stdin(w);
            else if (fds[i].fd == w.sup.status_fd)
                read_status(w);
        }
        if (w.supervisor_gone) break;
        bool pipes_done = w.out_fd < 0 && w.err_fd < 0;
        if (w.exited && (pipes_done || stopping || core::steady_ms() >= w.linger_deadline)) break;
    }
}

void child_process::apply_stop_request(watch_state& w) {
    bool requested;
    std::int64_t kill_at;
    {
        std::lock_guard lock(mu_);
        requested = stop_requested_;
        kill_at = kill_at_ms_;
    }
    if (requested && !w.term_sent) {
        send_command(w.sup.control_fd, supervisor_terminate);
        w.term_sent = true;
    }
    if (w.term_sent && !w.kill_sent && core::steady_ms() >= kill_at) {
        send_command(w.sup.control_fd, supervisor_kill);
        w.kill_sent = true;
    }
}

void child_process::read_status(watch_state& w) {
    char buf[sizeof(supervisor_report) * 8];
    auto got = ::read(w.sup.status_fd, buf, sizeof buf);
    if (got < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (got <= 0) {
        close_fd(w.sup.status_fd);
        w.supervisor_gone = true;
        return;
    }
    w.status_buf.append(buf, static_cast<std::size_t>(got));
    while (w.status_buf.size() >= sizeof(supervisor_report)) {
        supervisor_report r;
        std::memcpy(&r, w.status_buf.data(), sizeof r);
        w.status_buf.erase(0, sizeof r);
        if (r.kind == supervisor_report::started) {
            if (containment_) containment_->started(w.ticket, r.pid);
        } else if (r.kind == supervisor_report::spawn_failed) {
            w.result.spawned = false;
            w.result.spawn_errno = r.value;
            w.result.spawn_stage = r.stage;
        } else if (r.kind == supervisor_report::exited && !w.exited) {
            w.exited = true;
            w.linger_deadline = core::steady_ms() + linger_ms;
            w.result.term_signal = r.signal;
            w.result.exit_code = r.signal != 0 ? 128 + r.signal : r.value;
        }
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
    const auto& data = *plan_.stdin_data;
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
    // Closing the control pipe tells the supervisor the job is over: it kills whatever is left
    // of the group (see the class comment), reaps the leader, reports and exits.
    close_fd(w.sup.control_fd);
    while (w.sup.status_fd >= 0) read_status(w);
    if (w.sup.pid > 0) {  // ours, not the fork server's
        while (::waitpid(w.sup.pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        std::lock_guard lock(owned().mu);
        owned().pids.erase(w.sup.pid);
    }
    // A supervisor killed from outside took only the leader with it (PR_SET_PDEATHSIG): the rest
    // of the group is containment's to find.
    if (out.spawned && !w.exited) {
        w.supervisor_lost = out.supervisor_lost = true;
        out.exit_code = -1;
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
}

}  // namespace orbitmesh::engine::agent
