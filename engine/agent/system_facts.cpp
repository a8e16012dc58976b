#include "engine/agent/system_facts.hpp"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

namespace orbitmesh::engine::agent {

namespace {

/// `Key: value kB` lines of /proc/meminfo, in bytes.
std::map<std::string, std::uint64_t> meminfo() {
    std::map<std::string, std::uint64_t> out;
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    std::uint64_t value = 0;
    while (in >> key >> value) {
        std::getline(in, unit);
        if (!key.empty() && key.back() == ':') key.pop_back();
        out[key] = unit.find("kB") != std::string::npos ? value * 1024 : value;
    }
    return out;
}

std::string os_name() {
    std::ifstream in("/etc/os-release");
    for (std::string line; std::getline(in, line);) {
        if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
        auto v = line.substr(12);
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
        return v;
    }
    return "Linux";
}

double uptime_seconds() {
    std::ifstream in("/proc/uptime");
    double up = 0;
    in >> up;
    return up;
}

double round3(double v) { return std::round(v * 1000) / 1000; }

}  // namespace

int core_count() {
    auto n = std::thread::hardware_concurrency();
    return n == 0 ? 1 : static_cast<int>(n);
}

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "localhost";
    return buf;
}

double cpu_load() {
    double load[1] = {0};
    if (::getloadavg(load, 1) != 1) return 0;
    return round3(load[0] / core_count());
}

double memory_used_fraction() {
    auto m = meminfo();
    auto total = m["MemTotal"];
    if (total == 0) return 0;
    auto available = m.count("MemAvailable") ? m["MemAvailable"] : m["MemFree"];
    return round3(1.0 - static_cast<double>(available) / static_cast<double>(total));
}

std::uint64_t disk_free_bytes(const std::filesystem::path& where) {
    struct statvfs vfs {};
    auto p = where.empty() ? std::filesystem::path("/") : where;
    // The data dir may not exist yet on a first call; measure its nearest existing parent.
    while (::statvfs(p.c_str(), &vfs) != 0) {
        if (!p.has_parent_path() || p.parent_path() == p) return 0;
        p = p.parent_path();
    }
    return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

core::json system_info(const std::filesystem::path& disk_path) {
    struct utsname u {};
    ::uname(&u);
    return {{"host", host_name()},
            {"os", os_name()},
            {"kernel", std::string(u.sysname) + " " + u.release},
            {"arch", u.machine},
            {"cores", core_count()},
            {"memory_bytes", meminfo()["MemTotal"]},
            {"disk_free_bytes", disk_free_bytes(disk_path)},
            {"uptime_s", static_cast<std::int64_t>(uptime_seconds())}};
}

core::json system_health(const std::filesystem::path& disk_path) {
    return {{"status", "ok"},
            {"load", cpu_load()},
            {"mem_used_fraction", memory_used_fraction()},
            {"disk_free_bytes", disk_free_bytes(disk_path)}};
}

}  // namespace orbitmesh::engine::agent
