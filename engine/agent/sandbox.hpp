#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace orbitmesh::engine::agent {

/// `agent --sandbox`: shell and exec jobs run under bubblewrap in fresh namespaces (user, pid,
/// ipc, uts, cgroup, network): the file system read-only, /root, /home and the agent's data dir
/// hidden, a private /tmp, only the job's working directory writable, no network unless the job
/// asks (`limits.network: true`) and the agent allows it (`--sandbox-network`). Immutable; shared.
struct sandbox_config {
    std::string bwrap;                  // absolute path of bwrap
    bool allow_network = false;
    std::filesystem::path data_dir;     // hidden from jobs
    std::filesystem::path work_root;    // DATA_DIR/work: a fresh working dir per job without a cwd
};

/// Finds bwrap in PATH (or $ORBITMESH_BWRAP) for `agent --sandbox`. Throws core::error{usage}
/// naming the package when it is missing.
sandbox_config find_sandbox(bool allow_network, const std::filesystem::path& data_dir);

/// The bwrap argv that runs `argv` in `cwd` inside the sandbox. Throws core::error{invalid_input}
/// when the job asks for the network and the agent does not allow it.
std::vector<std::string> sandboxed_argv(const sandbox_config& sb, const std::vector<std::string>& argv,
                                        const std::filesystem::path& cwd, bool network);

}  // namespace orbitmesh::engine::agent
