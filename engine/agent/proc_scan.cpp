#include "engine/agent/proc_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <string_view>

namespace orbitmesh::engine::agent {

namespace {

// A process's environment is read up to this size; the job's own variables come first in what
// the agent passes, but a child may have grown it.
constexpr std::size_t max_environ_bytes = 1u << 20;

/// The whole of a small /proc file (plain read(2): these files have no size in stat).
std::string read_small(const std::string& path, std::size_t limit) {
    std::string out;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return out;
    char buf[16 * 1024];
    for (;;) {
        auto n = ::read(fd, buf, sizeof buf);
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() >= limit) break;
    }
    ::close(fd);
    return out;
}

}  // namespace

std::optional<proc_info> read_proc(pid_t pid) {
    auto text = read_small("/proc/" + std::to_string(pid) + "/stat", 4096);
    // comm (field 2) may hold spaces and parentheses: the fields after it follow the last ')'.
    auto close = text.rfind(')');
    if (close == std::string::npos || close + 2 >= text.size()) return std::nullopt;
    proc_info p;
    p.pid = pid;
    p.state = text[close + 2];
    std::string_view rest(text);
    rest.remove_prefix(close + 4);
    // After the state: ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
    // stime cutime cstime priority nice num_threads itrealvalue starttime (field 22).
    int field = 4;
    while (!rest.empty() && field <= 22) {
        auto sp = rest.find(' ');
        auto word = rest.substr(0, sp);
        if (field == 5) p.pgrp = static_cast<pid_t>(std::strtol(std::string(word).c_str(), nullptr, 10));
        if (field == 22) p.start_time = std::strtoull(std::string(word).c_str(), nullptr, 10);
        if (sp == std::string_view::npos) break;
        rest.remove_prefix(sp + 1);
        ++field;
    }
    if (field < 22) return std::nullopt;
    return p;
}

std::vector<proc_info> list_procs() {
    std::vector<proc_info> out;
    DIR* d = ::opendir("/proc");
    if (!d) return out;
    while (auto* e = ::readdir(d)) {
        char* end = nullptr;
        long pid = std::strtol(e->d_name, &end, 10);
        if (pid <= 0 || *end != '\0') continue;
        if (auto p = read_proc(static_cast<pid_t>(pid))) out.push_back(*p);
    }
    ::closedir(d);
    return out;
}

std::vector<std::string> environ_values(pid_t pid, const std::vector<std::string>& keys) {
    std::vector<std::string> values(keys.size());
    auto env = read_small("/proc/" + std::to_string(pid) + "/environ", max_environ_bytes);
    std::string_view all(env);
    while (!all.empty()) {
        auto nul = all.find('\0');
        auto entry = all.substr(0, nul);
        auto eq = entry.find('=');
        for (std::size_t i = 0; eq != std::string_view::npos && i < keys.size(); ++i)
            if (values[i].empty() && entry.substr(0, eq) == keys[i]) values[i] = entry.substr(eq + 1);
        if (nul == std::string_view::npos) break;
        all.remove_prefix(nul + 1);
    }
    return values;
}

bool proc_alive(pid_t pid) {
    auto p = read_proc(pid);
    return p && p->state != 'Z';
}

}  // namespace orbitmesh::engine::agent
