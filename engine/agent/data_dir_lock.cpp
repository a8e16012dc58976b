#include "engine/agent/data_dir_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <system_error>

#include "core/error.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& what) { throw core::error(core::error_kind::storage, "agent: " + what); }

/// The PID the holder wrote into the lock file, for the message; "" when unreadable.
std::string holder_pid(int fd) {
    char buf[32] = {};
    auto n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string text(buf, n > 0 ? static_cast<std::size_t>(n) : 0);
    auto end = text.find_first_not_of("0123456789");
    return text.substr(0, end);
}

}  // namespace

data_dir_lock::data_dir_lock(const fs::path& data_dir) {
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec)
        fail("cannot create the data directory \"" + data_dir.string() + "\": " + ec.message() +
             " (check --data-dir and its permissions)");
    auto file = data_dir / "agent.lock";
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0)
        fail("cannot open \"" + file.string() + "\": " + std::strerror(errno) +
             " (check --data-dir and its permissions)");
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        int err = errno;
        auto pid = holder_pid(fd_);
        ::close(fd_);
        fd_ = -1;
        if (err == EWOULDBLOCK)
            fail("the data directory \"" + data_dir.string() + "\" is in use by another agent" +
                 (pid.empty() ? std::string() : " (pid " + pid + ")") + "; give each agent its own --data-dir");
        fail("cannot lock \"" + file.string() + "\": " + std::strerror(err));
    }
    auto pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd_, 0) == 0) [[maybe_unused]] auto n = ::pwrite(fd_, pid.data(), pid.size(), 0);
}

data_dir_lock::~data_dir_lock() {
    if (fd_ >= 0) ::close(fd_);
}

}  // namespace orbitmesh::engine::agent
