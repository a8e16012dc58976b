#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "engine/agent/builtin_handlers.hpp"
#include "engine/agent/text_codec.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

// Results travel in one frame (16 MiB by default), base64 grows by a third.
constexpr std::int64_t max_read_bytes = 8 << 20;

[[noreturn]] void fail(const std::string& what, const std::string& why) {
    throw core::error(core::error_kind::failed, what + ": " + why);
}

/// `"PATH"`, built by appending: GCC 12 warns falsely (-Wrestrict) on `"\"" + std::string&&`.
std::string quoted(const fs::path& p) {
    std::string s(1, '"');
    s += p.string();
    s += '"';
    return s;
}

[[noreturn]] void fail_errno(const std::string& what, const std::string& doing, const fs::path& p) {
    fail(what, "cannot " + doing + " " + quoted(p) + ": " + std::generic_category().message(errno));
}

/// The `path` of a `{path, ...}` payload (a bare string is accepted for read and stat).
std::string path_of(const core::json& p, const std::string& what) {
    if (p.is_string()) return p.get<std::string>();
    if (p.is_object() && p.contains("path") && p["path"].is_string()) return p["path"].get<std::string>();
    throw core::error(core::error_kind::invalid_input, what + ": payload needs a string \"path\"");
}

/// Closes a descriptor when the scope ends.
struct fd_guard {
    int fd;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

job_result read_file(const path_guard& guard, const core::json& payload) {
    auto path = guard.resolve(path_of(payload, "file.read"), "file.read");
    fd_guard f{::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)};
    if (f.fd < 0) fail_errno("file.read", "open", path);
    struct stat st {};
    if (::fstat(f.fd, &st) != 0) fail_errno("file.read", "stat", path);
    if (!S_ISREG(st.st_mode)) fail("file.read", quoted(path) + " is not a regular file");
    if (st.st_size > max_read_bytes)
        fail("file.read", quoted(path) + " is " + std::to_string(st.st_size) + " bytes; the limit is " +
                              std::to_string(max_read_bytes));
    std::string data;
    char buf[64 * 1024];
    for (;;) {
        auto n = ::read(f.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno("file.read", "read", path);
        if (n == 0) break;
        data.append(buf, static_cast<std::size_t>(n));
        if (static_cast<std::int64_t>(data.size()) > max_read_bytes)
            fail("file.read", quoted(path) + " grew past the limit");
    }
    core::json out{{"path", path.string()}, {"size", data.size()}};
    if (is_valid_utf8(data))
        out["content"] = std::move(data);
    else
        out["content_base64"] = base64_encode(data);
    return {job_status::succeeded, 0, std::move(out), {}};
}

std::string content_of(const core::json& p) {
    if (p.contains("content") && p["content"].is_string()) return p["content"].get<std::string>();
    if (p.contains("content_base64") && p["content_base64"].is_string()) {
        std::string bytes;
        if (!base64_decode(p["content_base64"].get<std::string>(), bytes))
            throw core::error(core::error_kind::invalid_input,
                              "file.write: \"content_base64\" is not valid base64");
        return bytes;
    }
    throw core::error(core::error_kind::invalid_input,
                      "file.write: payload needs {path, content} or {path, content_base64}");
}

job_result write_file(const path_guard& guard, const core::json& payload) {
    if (!payload.is_object())
        throw core::error(core::error_kind::invalid_input,
                          "file.write: payload must be {path, content, append?}");
    auto path = guard.resolve(path_of(payload, "file.write"), "file.write");
    auto data = content_of(payload);
    bool append = payload.value("append", false);
    std::error_code ec;
    fs::create_directories(path.parent_path(), ec);
    int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | (append ? O_APPEND : O_TRUNC);
    fd_guard f{::open(path.c_str(), flags, 0644)};
    if (f.fd < 0) fail_errno("file.write", "open", path);
    std::size_t off = 0;
    while (off < data.size()) {
        auto n = ::write(f.fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail_errno("file.write", "write", path);
        off += static_cast<std::size_t>(n);
    }
    struct stat st {};
    ::fstat(f.fd, &st);
    return {job_status::succeeded,
            0,
            {{"path", path.string()}, {"bytes_written", data.size()}, {"size", st.st_size}},
            {}};
}

std::string type_of(mode_t m) {
    if (S_ISREG(m)) return "file";
    if (S_ISDIR(m)) return "directory";
    if (S_ISLNK(m)) return "symlink";
    return "other";
}

job_result stat_file(const path_guard& guard, const core::json& payload) {
    auto path = guard.resolve(path_of(payload, "file.stat"), "file.stat");
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) fail_errno("file.stat", "stat", path);
        return {job_status::succeeded, 0, {{"path", path.string()}, {"exists", false}}, {}};
    }
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    auto mtime_ms = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
    return {job_status::succeeded,
            0,
            {{"path", path.string()},
             {"exists", true},
             {"size", st.st_size},
             {"mode", mode},
             {"mtime", core::format_time(mtime_ms)},
             {"mtime_ms", mtime_ms},
             {"type", type_of(st.st_mode)}},
            {}};
}

/// One file handler: resolves and does its blocking I/O on the blocking pool.
class file_handler final : public handler {
public:
    using work_fn = job_result (*)(const path_guard&, const core::json&);
    file_handler(std::string name, std::shared_ptr<const path_guard> guard, work_fn work)
        : name_(std::move(name)), guard_(std::move(guard)), work_(work) {}

    std::string name() const override { return name_; }

    void start(const std::shared_ptr<job_context>& ctx) override {
        ctx->run_blocking(
            [guard = guard_, work = work_, payload = ctx->payload()] { return work(*guard, payload); });
    }

private:
    std::string name_;
    std::shared_ptr<const path_guard> guard_;
    work_fn work_;
};

}  // namespace

std::shared_ptr<handler> make_file_read_handler(std::shared_ptr<const path_guard> guard) {
    return std::make_shared<file_handler>("file.read", std::move(guard), &read_file);
}
std::shared_ptr<handler> make_file_write_handler(std::shared_ptr<const path_guard> guard) {
    return std::make_shared<file_handler>("file.write", std::move(guard), &write_file);
}
std::shared_ptr<handler> make_file_stat_handler(std::shared_ptr<const path_guard> guard) {
    return std::make_shared<file_handler>("file.stat", std::move(guard), &stat_file);
}

}  // namespace orbitmesh::engine::agent
