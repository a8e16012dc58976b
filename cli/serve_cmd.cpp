// `orbitmesh serve`: run the hub.
#include <sys/resource.h>

#include <algorithm>
#include <map>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "cli/tls_flags.hpp"
#include "cli/settings_layers.hpp"
#include "cli/store_flag.hpp"
#include "core/error.hpp"
#include "core/url.hpp"
#include "engine/auth/auth_mode.hpp"
#include "engine/serve/hub_server.hpp"
#include "engine/workflow/http_policy.hpp"

namespace orbitmesh::cli {

namespace {

struct serve_flags {
    std::string listen = "127.0.0.1:7420";
    std::string data_dir = ".orbitmesh";
    std::string port_file;
    std::string workflows;
    std::string durability = "full";
    std::size_t max_frame = 16u << 20;
    std::size_t max_pending = 100'000;
    std::string heartbeat = "5s", ack_timeout = "10s", reassign_after = "10s", idempotency_window = "24h";
    std::string cancel_grace = "10s", breaker_cooldown = "30s";
    int max_reassign = 3;
    std::size_t retain_jobs = 10'000, retain_runs = 1'000, snapshot_every = 100'000;
    int breaker_threshold = 5;
    std::string balance = "least-loaded";
    std::string store;
    bool shared_store = false;
    std::string hub_id;
    std::string node, script_timeout = "10s";
    int script_memory = 128;
    std::vector<std::string> http_allow, notify_channels;
    std::size_t http_max_response = 1u << 20;
    std::string log_format = "text", log_level = "info";
    std::string auth, jwt_key, handshake_timeout = "10s";
    bool insecure_no_auth = false;
    int max_auth_failures = 30;
    std::size_t max_connections = 32768;
    std::size_t max_body = 64u << 20;
    std::string event_write_timeout = "10s";
    std::size_t max_event_clients = 256;
    std::string otlp_endpoint;
    transport::tls_server_files tls;
    std::string secrets_dir;
};

// `--notify-channel NAME=URL|log` (repeatable).
std::map<std::string, std::string> parse_channels(const std::vector<std::string>& flags) {
    std::map<std::string, std::string> out;
    for (const auto& f : flags) {
        auto eq = f.find('=');
        auto name = f.substr(0, eq);
        auto where = eq == std::string::npos ? std::string() : f.substr(eq + 1);
        if (name.empty() || (where != "log" && where.rfind("http://", 0) != 0))
            throw core::error(core::error_kind::usage, "--notify-channel " + f + ": write NAME=http://HOST:PORT/PATH or NAME=log");
        out[name] = where;
    }
    return out;
}

/// SPEC §8: who must show a token, with what key, and the limits that keep hostile clients cheap.
void apply_trust_flags(const serve_flags& f, engine::hub_options& o) {
    o.require_tokens = engine::auth::tokens_required(o.host, f.auth, f.insecure_no_auth);
    o.insecure_no_auth = f.insecure_no_auth && !o.require_tokens && !engine::auth::is_loopback(o.host);
    o.jwt_key_file = f.jwt_key;
    if (f.max_auth_failures < 0) throw core::error(core::error_kind::usage, "--max-auth-failures must be 0 (no limit) or more");
    o.max_auth_failures = f.max_auth_failures;
    if (f.max_connections < 1) throw core::error(core::error_kind::usage, "--max-connections must be at least 1");
    o.max_connections = f.max_connections;
    o.handshake_timeout_ms = positive_duration(f.handshake_timeout, "--handshake-timeout");
    if (f.max_body < 1024) throw core::error(core::error_kind::usage, "--max-body must be at least 1024 bytes");
    o.max_http_body = f.max_body;
    o.event_write_timeout_ms = positive_duration(f.event_write_timeout, "--event-write-timeout");
    if (f.max_event_clients < 1) throw core::error(core::error_kind::usage, "--max-event-clients must be at least 1");
    o.max_event_clients = f.max_event_clients;
    if (!f.otlp_endpoint.empty()) {
        auto url = core::parse_server_url(f.otlp_endpoint);
        if (url.tls || f.otlp_endpoint.rfind("http://", 0) != 0)
            throw core::error(core::error_kind::usage, "--otlp-endpoint " + f.otlp_endpoint +
                                                           ": write http://HOST:PORT/v1/traces (OTLP/HTTP JSON over plain HTTP)");
        o.otlp_endpoint = f.otlp_endpoint;
    }
    o.version = ORBITMESH_VERSION;
    o.commit = ORBITMESH_COMMIT;
}

engine::hub_options to_options(const serve_flags& f) {
    engine::hub_options o;
    auto [host, port] = parse_listen(f.listen);
    o.host = host;
    o.port = port;
    o.data_dir = f.data_dir;
    o.port_file = f.port_file;
    o.workflows_dir = f.workflows;
    const auto store = parse_store_flag(f.store);
    o.store_path = store.sqlite_path;
    o.store_url = store.url;
    if (f.shared_store && o.store_url.empty())
        throw core::error(core::error_kind::usage,
                          "--shared-store needs a PostgreSQL store: add --store postgres://USER@HOST:PORT/DB");
    if (!f.hub_id.empty() && !f.shared_store) throw core::error(core::error_kind::usage, "--hub-id needs --shared-store");
    o.shared_store = f.shared_store;
    o.hub_id = f.hub_id;
    if (f.durability == "full") o.durability = store::durability::full;
    else if (f.durability == "normal") o.durability = store::durability::normal;
    else throw core::error(core::error_kind::usage, "--durability must be full or normal, got \"" + f.durability + "\"");
    if (f.max_frame < 1024) throw core::error(core::error_kind::usage, "--max-frame must be at least 1024 bytes");
    o.max_frame = f.max_frame;
    o.max_pending = f.max_pending;
    o.heartbeat_ms = positive_duration(f.heartbeat, "--heartbeat");
    o.ack_timeout_ms = positive_duration(f.ack_timeout, "--ack-timeout");
    o.reassign_after_ms = duration_flag(f.reassign_after, "--reassign-after");
    o.idempotency_window_ms = duration_flag(f.idempotency_window, "--idempotency-window");
    o.cancel_grace_ms = duration_flag(f.cancel_grace, "--cancel-grace");
    o.breaker_cooldown_ms = duration_flag(f.breaker_cooldown, "--breaker-cooldown");
    o.max_reassign = f.max_reassign;
    o.retain_jobs = f.retain_jobs;
    o.retain_runs = std::max<std::size_t>(1, f.retain_runs);
    o.snapshot_every = f.shared_store ? 0 : f.snapshot_every;  // no snapshots of a shared log
    o.breaker_threshold = std::max(1, f.breaker_threshold);
    auto b = engine::parse_balance_policy(f.balance);
    if (!b) throw core::error(core::error_kind::usage, "--balance must be least-loaded, round-robin, random or weighted");
    o.balance = *b;
    o.node = f.node;
    o.script_timeout_ms = positive_duration(f.script_timeout, "--script-timeout");
    if (f.script_memory < 16 || f.script_memory > 16384)
        throw core::error(core::error_kind::usage, "--script-memory must be between 16 and 16384 MiB");
    o.script_memory_mb = f.script_memory;
    o.http_allow = f.http_allow;
    (void)engine::http_policy(o.http_allow);  // a bad rule stops here, before the data dir is touched
    o.http_max_response = f.http_max_response;
    o.notify_channels = parse_channels(f.notify_channels);
    apply_trust_flags(f, o);
    check_serve_tls(f.tls);
    o.tls = f.tls;
    o.secrets_dir = f.secrets_dir;
    return o;
}

/// Every agent holds one socket: lift the soft open-file limit (often 1,024) to the hard one, so
/// a hub with thousands of agents does not stop accepting at the soft limit. Best effort.
void raise_open_file_limit() {
    constexpr rlim_t nr_open_default = 1u << 20;  // an "unlimited" hard limit cannot be set past fs.nr_open
    rlimit lim{};
    if (::getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
    rlim_t want = std::min(lim.rlim_max, std::max(lim.rlim_cur, nr_open_default));
    if (lim.rlim_cur >= want) return;
    lim.rlim_cur = want;
    ::setrlimit(RLIMIT_NOFILE, &lim);
}

}  // namespace

void add_serve_command(CLI::App& app, command_context& ctx) {
    auto f = std::make_shared<serve_flags>();
    auto* sub = app.add_subcommand("serve", "Run the hub: agents connect to it, clients submit work to it");
    sub->add_option("--listen", f->listen, "Address to listen on, HOST:PORT (port 0 picks a free one)")->capture_default_str();
    sub->add_option("--data-dir", f->data_dir, "Where the event store lives (DATA_DIR/orbitmesh.db)")->capture_default_str();
    sub->add_option("--store", f->store, "Store URL: sqlite://PATH (default: DATA_DIR/orbitmesh.db)");
    sub->add_flag("--shared-store", f->shared_store,
                  "Several active hubs on one PostgreSQL --store: each serves agents and clients, the database fences them");
    sub->add_option("--hub-id", f->hub_id, "With --shared-store: this hub's name to the others (default: HOST-RANDOM, kept in DATA_DIR/hub-id)")
        ->type_name("ID");
    sub->add_option("--workflows", f->workflows, "Register every *.yaml, *.yml and *.json workflow file in this directory at start")
        ->type_name("DIR");
    sub->add_option("--port-file", f->port_file, "Write the bound port to this file once listening");
    sub->add_option("--durability", f->durability, "full: fsync before acknowledging; normal: survive a crash")->capture_default_str();
    sub->add_option("--max-frame", f->max_frame, "Largest WebSocket frame in bytes; bigger ones close with 1009")->capture_default_str();
    sub->add_option("--max-pending", f->max_pending, "Bound of the pending queue; past it submits get \"queue full\"")->capture_default_str();
    sub->add_option("--heartbeat", f->heartbeat, "Agent heartbeat interval; 3 missed = disconnected")->capture_default_str();
    sub->add_option("--ack-timeout", f->ack_timeout, "An assign not ACKed within this goes elsewhere as attempt+1")->capture_default_str();
    sub->add_option("--reassign-after", f->reassign_after, "How long a lost agent's jobs wait for it to return")->capture_default_str();
    sub->add_option("--max-reassign", f->max_reassign, "Reassignments after agent loss before a job fails")->capture_default_str();
    sub->add_option("--retain-jobs", f->retain_jobs, "Finished jobs kept in memory; older ones are read from the jobs table")
        ->capture_default_str();
    sub->add_option("--retain-runs", f->retain_runs, "Finished runs kept in memory; older ones are read from the runs table")
        ->capture_default_str();
    sub->add_option("--snapshot-every", f->snapshot_every,
                    "Snapshot the live state after this many events (0: only at a clean stop)")
        ->capture_default_str();
    sub->add_option("--idempotency-window", f->idempotency_window, "How long an idempotency key is remembered")->capture_default_str();
    sub->add_option("--cancel-grace", f->cancel_grace, "SIGTERM-to-SIGKILL grace period for cancelled jobs")->capture_default_str();
    sub->add_option("--breaker-threshold", f->breaker_threshold, "Infrastructure failures in a row that take an agent out of rotation")->capture_default_str();
    sub->add_option("--breaker-cooldown", f->breaker_cooldown, "How long an agent stays out of rotation")->capture_default_str();
    sub->add_option("--balance", f->balance, "Agent choice: least-loaded, round-robin, random, weighted")->capture_default_str();
    sub->add_option("--node", f->node, "JavaScript engine for script steps and the original format's ${...} (default: $ORBITMESH_NODE, node or nodejs in PATH)")
        ->type_name("PATH");
    sub->add_option("--script-timeout", f->script_timeout, "Time limit of one script step or JavaScript expression batch")->capture_default_str();
    sub->add_option("--script-memory", f->script_memory, "Heap limit of one script, in MiB")->capture_default_str();
    sub->add_option("--http-allow", f->http_allow, "Where http steps may send requests: *, HOST, *.DOMAIN, IP or CIDR, optionally :PORT (repeat; default: anywhere but the hub itself and link-local/metadata addresses)")
        ->type_name("RULE");
    sub->add_option("--http-max-response", f->http_max_response, "Largest response body an http step accepts, in bytes")->capture_default_str();
    sub->add_option("--notify-channel", f->notify_channels, "A notification channel: NAME=http://URL (a webhook) or NAME=log; `default` is the one steps get without a channel (default: log)")
        ->type_name("NAME=URL");
    sub->add_option("--log-format", f->log_format, "Log lines on stderr: text, or json (one object per line with job/run/agent ids as fields)")
        ->capture_default_str();
    sub->add_option("--log-level", f->log_level, "Least severe log events shown: debug, info, warn or error")->capture_default_str();
    sub->add_option("--auth", f->auth, "none or token (default: none on loopback, token on any other address)")->type_name("MODE");
    sub->add_flag("--insecure-no-auth", f->insecure_no_auth, "Allow --auth none on a non-loopback address (logged loudly)");
    sub->add_option("--jwt-key", f->jwt_key, "PEM key for tokens: RSA (RS256) or EC P-256 (ES256); default: an HS256 secret in DATA_DIR/jwt-secret")
        ->type_name("FILE");
    sub->add_option("--max-auth-failures", f->max_auth_failures, "Failed authentications per address per minute before 429 (0: no limit)")->capture_default_str();
    sub->add_option("--max-connections", f->max_connections, "Open connections (HTTP and agents); past it new ones are closed")->capture_default_str();
    sub->add_option("--handshake-timeout", f->handshake_timeout, "A new connection must send its request head (and finish a WebSocket handshake) within this")->capture_default_str();
    sub->add_option("--max-body", f->max_body, "Largest HTTP request body in bytes; bigger ones get 413")->capture_default_str();
    sub->add_option("--event-write-timeout", f->event_write_timeout,
                    "An event-stream client (GET /api/v1/events) that does not take a piece within this is disconnected; it resumes by id")
        ->capture_default_str();
    sub->add_option("--otlp-endpoint", f->otlp_endpoint,
                    "POST every finished job's span to this OTLP/HTTP JSON collector (e.g. http://127.0.0.1:4318/v1/traces)")
        ->type_name("URL");
    sub->add_option("--max-event-clients", f->max_event_clients, "Event-stream clients at once; more get 503")->capture_default_str();
    add_serve_tls_flags(*sub, f->tls);
    sub->add_option("--secrets-dir", f->secrets_dir,
                    "Workflow secrets: NAME is read from DIR/NAME, else from the environment variable NAME")
        ->type_name("DIR");
    ctx.settings[sub] = add_settings_flags(*sub);
    sub->callback([&ctx, f] {
        ctx.run = [f] {
            configure_logging(f->log_format, f->log_level);
            auto opts = to_options(*f);
            raise_open_file_limit();
            return engine::run_hub(opts);
        };
    });
}

}  // namespace orbitmesh::cli
