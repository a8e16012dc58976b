#pragma once
#include <atomic>
#include <cstdint>
#include <memory>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/url.hpp"
#include "transport/tls_options.hpp"

namespace orbitmesh::engine {

/// Everything `orbitmesh agent` takes on its command line (SPEC §1, §3).
struct agent_options {
    core::server_url server;
    std::vector<core::server_url> more_servers;  // further hubs, tried in turn after `server` fails
    std::string name;                         // default: host name
    std::map<std::string, std::string> tags;  // --tag K=V
    std::vector<std::string> capabilities;    // --capability C (handler names are added automatically)
    int concurrency = 0;                      // 0 = number of cores
    std::filesystem::path data_dir;           // agent id + outbox; default ./.orbitmesh/agents/NAME
    std::filesystem::path handlers_dir;       // plugin executables; empty = none
    std::vector<std::filesystem::path> allowed_roots;  // for file.*; default: data_dir/files
    bool no_shell = false;
    bool sandbox = false;          // --sandbox: shell/exec jobs under bubblewrap
    bool sandbox_network = false;  // --sandbox-network: a sandboxed job may ask for the network
    std::string node;              // --node: for wasm jobs; empty = $ORBITMESH_NODE, node, nodejs
    std::int64_t wasm_timeout_ms = 60'000;  // --wasm-timeout: a wasm job without a timeout
    /// On SIGTERM/SIGINT running jobs get SIGTERM, then SIGKILL after this long (--stop-grace).
    std::int64_t stop_grace_ms = 10'000;
    bool cgroups = true;  // a cgroup v2 per job where the agent may create one (--cgroups auto|off)
    std::int64_t reconnect_min_ms = 100;
    std::int64_t reconnect_max_ms = 5000;
    bool json_format = false;  // speak orbitmesh.json instead of msgpack
    std::string token;
    transport::tls_client_files tls;  // for a wss:// hub: --ca, and --tls-cert/--tls-key for mutual TLS
    /// When set, the agent stops (as on a first SIGTERM: drain, then leave) once it becomes true,
    /// polled every 100 ms; it then installs no signal handlers and never calls _Exit, so it can
    /// run on a thread of another program (`run --local`).
    std::shared_ptr<std::atomic<bool>> stop_token;
    std::string version;   // reported in hello; empty = "unknown"
    bool verbose = false;  // -v: also log ignored messages and stray cancels
};

/// Runs an agent until SIGINT/SIGTERM: locks its data dir, kills what an earlier run of it left
/// behind, dials the hub, registers, runs pushed jobs, reconnects with decorrelated jitter.
/// Returns the process exit code. Throws core::error{usage|storage} for bad options or an
/// unusable or busy data dir (before connecting).
int run_agent(const agent_options& opts);

}  // namespace orbitmesh::engine
