#include "engine/auth/key_files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>


#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/error.hpp"
#include "transport/signing_key.hpp"

namespace orbitmesh::engine::auth {

namespace fs = std::filesystem;

namespace {

constexpr std::size_t secret_bytes = 32;
constexpr std::uintmax_t max_key_file = 64 * 1024;

[[noreturn]] void fail(const fs::path& file, const std::string& why) {
    throw core::error(core::error_kind::usage, "token key " + file.string() + ": " + why);
}

std::string read_small_file(const fs::path& file) {
    std::error_code ec;
    auto size = fs::file_size(file, ec);
    if (ec) fail(file, "cannot read it: " + ec.message());
    if (size > max_key_file) fail(file, "larger than 64 KiB, not a key");
    std::ifstream in(file, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    if (!in) fail(file, "cannot read it");
    return text.str();
}

/// Writes a new random secret to `file` unless one exists; never replaces one.
void create_secret(const fs::path& file) {
    std::string raw;
    try {
        raw = transport::random_bytes(secret_bytes);
    } catch (const core::error&) {
        fail(file, "no randomness from OpenSSL to make a secret");
    }
    std::string text = base64url_encode(raw) + "\n";
    auto tmp = file;
    tmp += ".tmp" + std::to_string(::getpid());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) fail(file, std::string("cannot create it: ") + std::strerror(errno) + " (check --data-dir)");
    bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
    ::close(fd);
    // link(2) fails with EEXIST when another process made the secret first: keep theirs.
    int linked = ok ? ::link(tmp.c_str(), file.c_str()) : -1;
    int err = errno;
    ::unlink(tmp.c_str());
    if (!ok) fail(file, "cannot write it");
    if (linked != 0 && err != EEXIST) fail(file, std::string("cannot create it: ") + std::strerror(err));
}

std::shared_ptr<const jwt_key> load_secret(const fs::path& file) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0) {
        if (errno != ENOENT) fail(file, std::string("cannot read it: ") + std::strerror(errno));
        create_secret(file);
        if (::stat(file.c_str(), &st) != 0) fail(file, std::string("cannot read it: ") + std::strerror(errno));
    }
    if ((st.st_mode & 077) != 0)
        fail(file, "other users can read it (mode " + std::to_string((st.st_mode >> 6) & 7) +
                       std::to_string((st.st_mode >> 3) & 7) + std::to_string(st.st_mode & 7) +
                       "); run `chmod 600 " + file.string() + "`");
    auto text = read_small_file(file);
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) text.pop_back();
    std::string secret;
    if (!base64url_decode(text, secret) || secret.size() < secret_bytes)
        fail(file, "not a secret made by orbitmesh (expected base64url of at least 32 bytes); move it aside to make a new one");
    return std::make_shared<const jwt_key>(jwt_key::hs256(std::move(secret)));
}

}  // namespace

std::shared_ptr<const jwt_key> load_hub_key(const fs::path& data_dir, const fs::path& jwt_key_file) {
    if (!jwt_key_file.empty()) {
        auto pem = read_small_file(jwt_key_file);
        return std::make_shared<const jwt_key>(jwt_key::from_pem(pem, "--jwt-key " + jwt_key_file.string()));
    }
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) fail(data_dir / secret_file_name, "cannot create the data dir: " + ec.message());
    return load_secret(data_dir / secret_file_name);
}

}  // namespace orbitmesh::engine::auth
