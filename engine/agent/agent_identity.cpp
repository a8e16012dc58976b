#include "engine/agent/agent_identity.hpp"

#include <fstream>
#include <system_error>

#include "core/error.hpp"
#include "core/ids.hpp"

namespace orbitmesh::engine::agent {

namespace fs = std::filesystem;

namespace {

std::string trimmed(std::string s) {
    auto end = s.find_last_not_of(" \t\r\n");
    auto start = s.find_first_not_of(" \t\r\n");
    return end == std::string::npos ? std::string() : s.substr(start, end + 1 - start);
}

[[noreturn]] void storage_error(const fs::path& file, const std::string& why) {
    throw core::error(core::error_kind::storage, "agent: cannot " + why + " \"" + file.string() +
                                                     "\" (check --data-dir and its permissions)");
}

}  // namespace

std::string load_or_create_agent_id(const fs::path& data_dir) {
    auto file = data_dir / "agent_id";
    std::error_code ec;
    fs::create_directories(data_dir, ec);
    if (ec) storage_error(data_dir, "create the data directory");
    if (fs::exists(file, ec)) {
        std::ifstream in(file);
        if (!in) storage_error(file, "read the agent id file");
        std::string line;
        std::getline(in, line);
        if (auto id = trimmed(line); !id.empty()) return id;
    }
    // Write to a temporary name and rename, so a crash never leaves a half-written id behind.
    auto id = core::new_id();
    auto tmp = data_dir / "agent_id.tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << id << '\n';
        out.flush();
        if (!out) storage_error(tmp, "write the agent id file");
    }
    fs::rename(tmp, file, ec);
    if (ec) storage_error(file, "write the agent id file");
    return id;
}

}  // namespace orbitmesh::engine::agent
