#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "engine/agent/handler.hpp"

namespace orbitmesh::engine::agent {

class job_containment;

/// The handlers an agent offers, by canonical name. Filled at start, read-only afterwards.
class handler_registry {
public:
    /// Adds `h` under its canonical name; returns false (and keeps the first) on a clash.
    bool add(std::shared_ptr<handler> h);
    /// Looks a command up after core::canonical_command (`system:info` finds `system.info`).
    std::shared_ptr<handler> find(std::string_view command) const;
    /// Canonical names, sorted.
    std::vector<std::string> names() const;

private:
    std::map<std::string, std::shared_ptr<handler>, std::less<>> by_name_;
};

/// What decides the agent's handler set.
struct registry_config {
    bool no_shell = false;                             // drop shell and exec
    std::filesystem::path handlers_dir;                // plugin executables; empty = none
    std::vector<std::filesystem::path> allowed_roots;  // file.* confinement
    std::filesystem::path disk_path;                   // where system.* measure free disk
    std::shared_ptr<job_containment> containment;      // for shell, exec and plugins; may be null
};

/// The built-in handlers plus one plugin per executable in `handlers_dir` (named after the file
/// without its extension; a plugin never replaces a built-in, it is skipped with a log line).
/// Throws core::error{usage} when `handlers_dir` is given but is not a readable directory.
handler_registry make_registry(const registry_config& cfg);

}  // namespace orbitmesh::engine::agent
