#include "engine/agent/job_records.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <functional>
#include <fstream>
#include <sstream>
#include <system_error>

#include "core/error.hpp"
#include "core/json.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t max_name_chars = 120;

std::string safe_name(const std::string& s) {
    std::string out;
    out.reserve(std::min(s.size(), max_name_chars));
    for (char c : s) {
        if (out.size() == max_name_chars) break;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                  c == '_' || c == '.';
        out.push_back(ok ? c : '_');
    }
    if (out.empty() || out.front() == '.') out.insert(out.begin(), '_');
    // Ids the hub makes (UUIDs) pass unchanged; any other keeps its own name by a hash of it.
    if (out != s) {
        char hash[17];
        std::snprintf(hash, sizeof hash, "%016zx", std::hash<std::string>{}(s));
        out += std::string("-") + hash;
    }
    return out;
}

core::json to_json(const job_record& r) {
    return {{"job_id", r.job_id}, {"attempt", r.attempt},       {"boot_id", r.boot_id},
            {"pgid", r.pgid},     {"start_time", r.start_time}, {"cgroup", r.cgroup}};
}

std::optional<job_record> parse(const std::string& text) {
    auto j = core::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return std::nullopt;
    job_record r;
    try {
        r.job_id = j.at("job_id").get<std::string>();
        r.attempt = j.at("attempt").get<int>();
        r.boot_id = j.value("boot_id", std::string());
        r.pgid = j.value("pgid", std::int64_t{0});
        r.start_time = j.value("start_time", std::uint64_t{0});
        r.cgroup = j.value("cgroup", std::string());
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (r.job_id.empty() || r.pgid < 0) return std::nullopt;
    return r;
}

}  // namespace

job_records::job_records(fs::path dir) : dir_(std::move(dir)) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec)
        throw core::error(core::error_kind::storage, "agent: cannot create \"" + dir_.string() + "\": " +
                                                         ec.message() + " (check --data-dir and its permissions)");
}

fs::path job_records::file_for(const std::string& job_id, int attempt) const {
    return dir_ / (safe_name(job_id) + "." + std::to_string(attempt));
}

int job_records::create(const fs::path& file, const job_record& r, std::string& error) const {
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error = "cannot write \"" + file.string() + "\": " + std::strerror(errno);
        return -1;
    }
    if (error = rewrite(fd, file, r); !error.empty()) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string job_records::rewrite(int fd, const fs::path& file, const job_record& r) const {
    auto text = to_json(r).dump() + "\n";
    auto n = ::pwrite(fd, text.data(), text.size(), 0);
    if (n != static_cast<ssize_t>(text.size()) || ::ftruncate(fd, static_cast<off_t>(text.size())) != 0)
        return "cannot write \"" + file.string() + "\": " + std::strerror(n < 0 ? errno : ENOSPC);
    return {};
}

std::string job_records::write(const fs::path& file, const job_record& r) const {
    std::string error;
    int fd = create(file, r, error);
    if (fd >= 0) ::close(fd);
    return error;
}

void job_records::remove(const fs::path& file) const noexcept {
    std::error_code ec;
    fs::remove(file, ec);
}

std::vector<std::pair<fs::path, std::optional<job_record>>> job_records::load_all() const {
    std::vector<std::pair<fs::path, std::optional<job_record>>> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir_, ec)) {
        if (!e.is_regular_file(ec)) continue;
        std::ifstream in(e.path());
        std::stringstream text;
        text << in.rdbuf();
        out.emplace_back(e.path(), in ? parse(text.str()) : std::nullopt);
    }
    return out;
}

std::string current_boot_id() {
    std::ifstream in("/proc/sys/kernel/random/boot_id");
    std::string id;
    std::getline(in, id);
    return id;
}

}  // namespace orbitmesh::engine::agent
