#include "engine/agent/cgroup_tree.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>
#include <vector>

#include "core/clock.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

constexpr int max_name_tries = 16;
constexpr auto empty_poll = std::chrono::milliseconds(2);

/// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 3 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1]))) {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 3), nullptr, 8)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

/// The agent's own cgroup v2 directory: its "0::PATH" line of /proc/self/cgroup under the
/// mount point of the cgroup2 hierarchy (which may show only a subtree: its mountinfo root).
std::optional<fs::path> own_cgroup_dir(std::string& why_not) {
    std::ifstream cg("/proc/self/cgroup");
    std::string line, rel;
    bool found = false;
    while (std::getline(cg, line))
        if (line.rfind("0::", 0) == 0) {
            rel = line.substr(3);
            found = true;
            break;
        }
    if (!found) {
        why_not = "this process is in no cgroup v2 hierarchy";
        return std::nullopt;
    }
    std::ifstream mounts("/proc/self/mountinfo");
    while (std::getline(mounts, line)) {
        auto sep = line.find(" - ");
        if (sep == std::string::npos) continue;
        std::istringstream after(line.substr(sep + 3));
        std::string fstype;
        after >> fstype;
        if (fstype != "cgroup2") continue;
        std::istringstream before(line.substr(0, sep));
        std::string id, parent, dev, root, mount_point;
        before >> id >> parent >> dev >> root >> mount_point;
        root = unescape(root);
        std::string r = rel;
        if (root != "/") {
            if (r.rfind(root, 0) != 0) continue;
            r = r.substr(root.size());
        }
        return fs::path(unescape(mount_point)) / fs::path(r).relative_path();
    }
    why_not = "no cgroup v2 hierarchy is mounted";
    return std::nullopt;
}

std::string errno_text(int err) { return std::strerror(err); }

/// Moves a short-lived child into a fresh cgroup: the one thing creating a directory does not prove.
std::string probe_move(const fs::path& dir) {
    auto probe = dir / ("probe-" + std::to_string(::getpid()));
    if (::mkdir(probe.c_str(), 0755) != 0 && errno != EEXIST)
        return "cannot create \"" + probe.string() + "\": " + errno_text(errno);
    int fd = ::open((probe / "cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0) {
        pid_t pid = ::_Fork();  // the child only writes and exits: async-signal-safe
        if (pid == 0) ::_exit(::write(fd, "0", 1) == 1 ? 0 : (errno & 0xff));
        int status = 0;
        if (pid < 0) err = errno;
        while (pid > 0 && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
        if (pid > 0) err = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
        ::close(fd);
    }
    ::rmdir(probe.c_str());
    if (err != 0) return "cannot move a process into \"" + probe.string() + "\": " + errno_text(err);
    return {};
}

std::vector<pid_t> procs_in(const fs::path& dir) {
    std::vector<pid_t> out;
    std::ifstream in(dir / "cgroup.procs");
    for (pid_t pid; in >> pid;) out.push_back(pid);
    return out;
}

/// Processes in `dir` and every cgroup below it.
std::vector<pid_t> procs_below(const fs::path& dir) {
    auto out = procs_in(dir);
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec))
            for (auto pid : procs_below(e.path())) out.push_back(pid);
    return out;
}

bool populated(const fs::path& dir) {
    std::ifstream in(dir / "cgroup.events");
    for (std::string key, value; in >> key >> value;)
        if (key == "populated") return value != "0";
    return !procs_in(dir).empty();
}

/// rmdir of `dir` after its child cgroups, deepest first.
bool remove_tree(const fs::path& dir) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.is_directory(ec)) remove_tree(e.path());
    return ::rmdir(dir.c_str()) == 0 || errno == ENOENT;
}

}  // namespace

std::optional<cgroup_tree> cgroup_tree::open(const std::string& agent_id, std::string& why_not) {
    auto own = own_cgroup_dir(why_not);
    if (!own) return std::nullopt;
    std::string name = "orbitmesh-";
    for (char c : agent_id.substr(0, 100))  // the id comes from a file an operator may edit
        name.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_');
    auto dir = *own / name;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        why_not = "cannot create \"" + dir.string() + "\": " + errno_text(errno);
        return std::nullopt;
    }
    if (auto err = probe_move(dir); !err.empty()) {
        why_not = err;
        ::rmdir(dir.c_str());
        return std::nullopt;
    }
    std::error_code ec;
    return cgroup_tree(dir, fs::exists(dir / "cgroup.kill", ec));
}

fs::path cgroup_tree::create(const std::string& name, std::string& error) const {
    for (int i = 1; i <= max_name_tries; ++i) {
        auto candidate = dir_ / (i == 1 ? name : name + "-" + std::to_string(i));
        if (::mkdir(candidate.c_str(), 0755) == 0) return candidate;
        // The agent's directory itself went (an earlier run's fork server removed it as that
        // agent ended while this one started): make it again.
        if (errno == ENOENT && ::mkdir(dir_.c_str(), 0755) == 0 && ::mkdir(candidate.c_str(), 0755) == 0)
            return candidate;
        if (errno != EEXIST) {
            error = "cannot create \"" + candidate.string() + "\": " + errno_text(errno);
            return {};
        }
    }
    error = "cannot create a cgroup for \"" + name + "\" in \"" + dir_.string() + "\": every name is taken";
    return {};
}

void cgroup_tree::remove_if_empty() const noexcept { ::rmdir(dir_.c_str()); }

std::size_t kill_cgroup(const fs::path& dir, std::int64_t wait_ms) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return 0;
    const auto count = procs_below(dir).size();
    const auto deadline = core::steady_ms() + wait_ms;
    const bool has_kill = fs::exists(dir / "cgroup.kill", ec);
    if (has_kill) std::ofstream(dir / "cgroup.kill") << "1";
    while (populated(dir) && core::steady_ms() < deadline) {
        if (!has_kill)  // without cgroup.kill, new forks are caught on the next round
            for (auto pid : procs_below(dir)) ::kill(pid, SIGKILL);
        std::this_thread::sleep_for(empty_poll);
    }
    while (!remove_tree(dir) && core::steady_ms() < deadline) std::this_thread::sleep_for(empty_poll);
    return count;
}

}  // namespace orbitmesh::engine::agent
