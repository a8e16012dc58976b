#pragma once
#include <cstddef>
#include <cstdint>
#include <atomic>
#include <filesystem>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <vector>

#include "engine/hub/dispatcher.hpp"
#include "store/event_store.hpp"
#include "transport/tls_options.hpp"

namespace orbitmesh::engine {

/// Everything `orbitmesh serve` takes (SPEC §1, §3, §5). Durations in milliseconds.
struct hub_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7420;
    std::filesystem::path data_dir = ".orbitmesh";
    std::filesystem::path store_path;  // empty = DATA_DIR/orbitmesh.db
    std::string store_url;             // postgres://…: the shared PostgreSQL store (SPEC §10)
    /// `--shared-store`: several active hubs on the PostgreSQL store, this one named `hub_id`
    /// (engine/hub/hub_peers.cpp). Off: one active hub, the others standbys.
    bool shared_store = false;
    std::string hub_id;
    std::filesystem::path port_file;   // empty = none
    std::filesystem::path workflows_dir;  // empty = none; every workflow file in it is registered at start
    store::durability durability = store::durability::full;
    std::size_t max_frame = 16u << 20;
    std::size_t max_pending = 100'000;
    std::int64_t heartbeat_ms = 5000;
    std::int64_t ack_timeout_ms = 10'000;
    std::int64_t reassign_after_ms = 10'000;
    int max_reassign = 3;
    std::int64_t idempotency_window_ms = 24LL * 3600 * 1000;
    std::int64_t cancel_grace_ms = 10'000;
    int breaker_threshold = 5;
    std::int64_t breaker_cooldown_ms = 30'000;
    balance_policy balance = balance_policy::least_loaded;
    /// Finished jobs (runs) kept in memory; older ones are answered from the `jobs` (`runs`)
    /// projection and the log, so the hub's memory follows live work, not history.
    std::size_t retain_jobs = 10'000;
    std::size_t retain_runs = 1'000;
    /// A snapshot of the live state after this many events (and at a clean stop), so a start
    /// folds only the tail; 0 = only at a clean stop.
    std::size_t snapshot_every = 100'000;
    // The trust boundary (SPEC §8; engine/auth, engine/serve/http_front).
    bool require_tokens = false;          // --auth token (else none: everyone acts as admin)
    bool insecure_no_auth = false;        // --insecure-no-auth: no auth on a non-loopback address, logged loudly
    std::filesystem::path jwt_key_file;   // --jwt-key PEM (RS256/ES256); empty = HS256 secret in the data dir
    int max_auth_failures = 30;           // failed authentications per address per minute, then 429; 0 = no limit
    std::size_t max_connections = 32768;  // open HTTP + agent connections
    std::int64_t handshake_timeout_ms = 10'000;  // accept -> first request head / WebSocket handshake done
    std::size_t max_http_body = 64u << 20;
    int io_threads = 2;
    // GET /api/v1/events (engine/events): a client whose piece is not taken this long is dropped.
    std::int64_t event_write_timeout_ms = 10'000;
    std::size_t max_event_clients = 256;
    std::string otlp_endpoint;  // --otlp-endpoint http://HOST:PORT/v1/traces; empty = no export
    std::string version = "dev", commit = "unknown";  // for /metrics' orbitmesh_build_info
    // Steps of the original format (docs/original-format.md): JavaScript, http, notification channels.
    std::string node;                           // the JavaScript engine; "" = $ORBITMESH_NODE or PATH
    std::int64_t script_timeout_ms = 10'000;
    int script_memory_mb = 128;
    std::vector<std::string> http_allow;        // allow-list rules; empty = any target but the protected ones
    std::size_t http_max_response = 1u << 20;
    std::map<std::string, std::string> notify_channels;  // NAME -> URL or "log"
    /// `--tls-cert/--tls-key`: https:// and wss:// on the one port; `--client-ca` too: agents must
    /// present a certificate signed by it, and its CN is the only name they may register as.
    transport::tls_server_files tls;
    /// `--secrets-dir`: a workflow's `secrets:` name NAME is read from DIR/NAME, else from the
    /// hub's environment variable NAME. Empty = the environment only.
    std::filesystem::path secrets_dir;
    /// When set, the hub also stops (as on SIGTERM) once it becomes true: for in-process hubs
    /// (`run --local`, tests). Polled every 100 ms.
    std::shared_ptr<std::atomic<bool>> stop_token;
    /// Called on an io thread with the bound port once listening (in-process users); may be empty.
    std::function<void(std::uint16_t)> on_listening;
};

}  // namespace orbitmesh::engine
