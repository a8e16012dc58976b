#include "engine/agent/fork_server.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>

#include "engine/agent/agent_log.hpp"

// The server side (serve() and below, in the server process) makes only async-signal-safe calls:
// it is a fork of a process that may have threads (`run --local`), so it never allocates.

namespace orbitmesh::engine::agent {

namespace {

constexpr std::uint32_t request_magic = 0x6f6d6673;  // "omfs"
constexpr std::size_t max_request_bytes = 1u << 20;  // argv + environment of one job
constexpr std::size_t max_strings = 1u << 15;
constexpr int fd_slots = 7;  // stdin, stdout, stderr, control, status, cgroup.procs, cgroup.kill
constexpr int socket_buffer_bytes = 2 << 20;
constexpr int server_socket_fd = 3;
constexpr int reap_interval_ms = 1000;  // exited supervisors wait at most this long to be reaped

struct request_header {
    std::uint32_t magic;
    std::uint32_t argc;
    std::uint32_t envc;
    std::uint32_t flags;    // has_cwd | has_cgroup_dir
    std::uint32_t fd_mask;  // which of the fd_slots descriptors ride along, in slot order
};
constexpr std::uint32_t has_cwd = 1, has_cgroup_dir = 2;

// Server-side buffers: static, so receiving needs no allocation; only the server touches them.
alignas(16) char request_buf[max_request_bytes];
char* strings[max_strings + 2];

/// The launch a request describes, with pointers into request_buf; false for a malformed one.
bool parse(std::size_t n, const int (&fds)[fd_slots], supervisor_launch& l, int& control, int& status) {
    request_header h;
    if (n < sizeof h || request_buf[n - 1] != '\0') return false;
    std::memcpy(&h, request_buf, sizeof h);
    if (h.magic != request_magic || h.argc == 0 || h.argc + h.envc > max_strings) return false;
    char* p = request_buf + sizeof h;
    char* const end = request_buf + n;
    auto next = [&]() -> char* {
        if (p >= end) return nullptr;
        char* s = p;
        p += std::strlen(s) + 1;
        return s;
    };
    l.path = next();
    for (std::uint32_t i = 0; i < h.argc; ++i) strings[i] = next();
    strings[h.argc] = nullptr;
    for (std::uint32_t i = 0; i < h.envc; ++i) strings[h.argc + 1 + i] = next();
    strings[h.argc + 1 + h.envc] = nullptr;
    l.cwd = h.flags & has_cwd ? next() : nullptr;
    l.cgroup_dir = h.flags & has_cgroup_dir ? next() : nullptr;
    for (std::uint32_t i = 0; i < h.argc + 1 + h.envc; ++i)
        if (i != h.argc && !strings[i]) return false;
    if (!l.path || ((h.flags & has_cwd) && !l.cwd) || ((h.flags & has_cgroup_dir) && !l.cgroup_dir)) return false;
    l.argv = strings;
    l.envp = strings + h.argc + 1;
    l.stdin_fd = fds[0];
    l.stdout_fd = fds[1];
    l.stderr_fd = fds[2];
    control = fds[3];
    status = fds[4];
    l.cgroup_procs_fd = fds[5];
    l.cgroup_kill_fd = fds[6];
    return control >= 0 && status >= 0;
}

/// One request: its descriptors in slot order (-1 for a slot not sent); false when none came.
bool receive(std::size_t& n, int (&fds)[fd_slots]) {
    for (;;) {
        iovec iov{request_buf, sizeof request_buf};
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * fd_slots)];
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        auto got = ::recvmsg(server_socket_fd, &msg, MSG_CMSG_CLOEXEC);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;  // the agent closed its end, or is gone
        int received[fd_slots];
        int count = 0;
        for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
                for (std::size_t i = 0; (i + 1) * sizeof(int) <= c->cmsg_len - CMSG_LEN(0) && count < fd_slots; ++i)
                    std::memcpy(&received[count++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
        request_header h{};
        if (static_cast<std::size_t>(got) >= sizeof h) std::memcpy(&h, request_buf, sizeof h);
        for (int i = 0, k = 0; i < fd_slots; ++i) fds[i] = (h.fd_mask >> i) & 1 && k < count ? received[k++] : -1;
        n = static_cast<std::size_t>(got);
        if (!(msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC))) return true;
        for (int i = 0; i < count; ++i) ::close(received[i]);
    }
}

/// Once the agent is gone its supervisors are still killing and removing their jobs' cgroups:
/// the agent's own directory goes when they are done (bounded; a restart of the agent sweeps it
/// otherwise).
void remove_cgroup_root(const char* root) {
    if (!root || !*root) return;
    for (int waited = 0; waited < fork_server::cleanup_ms; waited += 20) {
        if (::rmdir(root) == 0 || (errno != EBUSY && errno != ENOTEMPTY)) return;
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        timespec pause{0, 20'000'000};
        ::nanosleep(&pause, nullptr);
    }
}

[[noreturn]] void serve(int sock, pid_t agent, const char* cgroup_root) {
    if (sock != server_socket_fd && ::dup2(sock, server_socket_fd) < 0) ::_exit(1);
    // Hold nothing of the agent's: not its data-dir lock, not its stderr (a reader of that pipe
    // would wait for the server after the agent is gone).
    int null_fd = ::open("/dev/null", O_RDWR);
    for (int fd = 0; fd <= 2; ++fd) ::dup2(null_fd, fd);
    if (::close_range(server_socket_fd + 1, ~0U, 0) != 0)
        for (int fd = server_socket_fd + 1; fd < 65536; ++fd) ::close(fd);
    ::setsid();
    ::prctl(PR_SET_NAME, "om-fork-server");
    if (::getppid() != agent) ::_exit(0);  // the agent died already: nobody will ever ask
    struct sigaction sa {};
    sa.sa_handler = SIG_IGN;
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP, SIGTTIN, SIGTTOU})
        ::sigaction(sig, &sa, nullptr);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (;;) {
        // Supervisors are reaped here, not left to the kernel, so their CPU time (and their jobs')
        // adds up in the agent's own accounts once this server is reaped in turn.
        pollfd p{server_socket_fd, POLLIN, 0};
        int ready = ::poll(&p, 1, reap_interval_ms);
        while (::waitpid(-1, nullptr, WNOHANG) > 0) {
        }
        if (ready <= 0) continue;
        std::size_t n = 0;
        int fds[fd_slots];
        if (!receive(n, fds)) {  // the agent closed its end, or died
            remove_cgroup_root(cgroup_root);
            while (::waitpid(-1, nullptr, WNOHANG) > 0) {
            }
            ::_exit(0);
        }
        supervisor_launch l;
        int control = -1, status = -1;
        if (parse(n, fds, l, control, status)) {
            pid_t pid = ::_Fork();
            if (pid == 0) {
                ::close(server_socket_fd);
                become_supervisor(l, control, status);
            }
            if (pid < 0) {
                supervisor_report r{supervisor_report::spawn_failed, 0, errno, 0, supervisor_report::stage_setup};
                [[maybe_unused]] auto w = ::write(status, &r, sizeof r);
            }
        }
        for (int fd : fds)
            if (fd >= 0) ::close(fd);
    }
}

void append(std::string& buf, const char* s) {
    buf.append(s);
    buf.push_back('\0');
}

}  // namespace

std::unique_ptr<fork_server> fork_server::start(const std::filesystem::path& cgroup_root) {
    const std::string root = cgroup_root.string();  // prepared here: the server may not allocate
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) return nullptr;
    ::setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    ::setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &socket_buffer_bytes, sizeof socket_buffer_bytes);
    const pid_t agent = ::getpid();
    pid_t pid = ::_Fork();
    if (pid == 0) serve(sv[1], agent, root.c_str());
    ::close(sv[1]);
    if (pid < 0) {
        ::close(sv[0]);
        return nullptr;
    }
    return std::unique_ptr<fork_server>(new fork_server(pid, sv[0]));
}

fork_server::~fork_server() {
    ::close(sock_);  // the server's receive ends: it exits
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
}

int fork_server::start_supervisor(const supervisor_launch& l, supervisor_handle& out) {
    if (gone_.load()) return EPIPE;
    request_header h{request_magic, 0, 0, 0, 0};
    std::string buf(sizeof h, '\0');
    append(buf, l.path);
    for (auto* a = l.argv; *a; ++a, ++h.argc) append(buf, *a);
    for (auto* e = l.envp; *e; ++e, ++h.envc) append(buf, *e);
    if (l.cwd) append(buf, l.cwd), h.flags |= has_cwd;
    if (l.cgroup_dir) append(buf, l.cgroup_dir), h.flags |= has_cgroup_dir;
    if (buf.size() > max_request_bytes || h.argc + h.envc > max_strings) return EMSGSIZE;

    int control[2] = {-1, -1}, status[2] = {-1, -1};
    if (::pipe2(control, O_CLOEXEC) != 0) return errno;
    if (::pipe2(status, O_CLOEXEC) != 0) {
        int err = errno;
        ::close(control[0]);
        ::close(control[1]);
        return err;
    }
    const int slots[fd_slots] = {l.stdin_fd, l.stdout_fd, l.stderr_fd, control[0], status[1], l.cgroup_procs_fd,
                                 l.cgroup_kill_fd};
    int sent[fd_slots];
    int count = 0;
    for (int i = 0; i < fd_slots; ++i)
        if (slots[i] >= 0) h.fd_mask |= 1u << i, sent[count++] = slots[i];
    std::memcpy(buf.data(), &h, sizeof h);

    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char cbuf[CMSG_SPACE(sizeof(int) * fd_slots)] = {};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cbuf;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * count);
    auto* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * count);
    std::memcpy(CMSG_DATA(c), sent, sizeof(int) * count);
    ssize_t rc;
    while ((rc = ::sendmsg(sock_, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    int err = rc < 0 ? errno : 0;
    ::close(control[0]);  // the server has its copies (or nothing was sent)
    ::close(status[1]);
    if (err != 0) {
        ::close(control[1]);
        ::close(status[0]);
        if (err != EMSGSIZE && !gone_.exchange(true))
            log_line(std::string("the fork server is gone (") + std::strerror(err) +
                     "): job supervisors are forked from the agent from now on");
        return err == EMSGSIZE ? EMSGSIZE : EPIPE;
    }
    out = supervisor_handle{0, control[1], status[0]};
    return 0;
}

}  // namespace orbitmesh::engine::agent
