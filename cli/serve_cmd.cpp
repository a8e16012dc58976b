// `orbitmesh serve`: run the hub.
#include <sys/resource.h>

#include <algorithm>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "core/error.hpp"
#include "engine/hub/hub_server.hpp"

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
};

engine::hub_options to_options(const serve_flags& f) {
    engine::hub_options o;
    auto [host, port] = parse_listen(f.listen);
    o.host = host;
    o.port = port;
    o.data_dir = f.data_dir;
    o.port_file = f.port_file;
    o.workflows_dir = f.workflows;
    if (!f.store.empty()) {
        if (f.store.rfind("sqlite://", 0) != 0 || f.store.size() == 9)
            throw core::error(core::error_kind::usage,
                              "--store " + f.store + ": use sqlite://PATH (postgres:// comes with multi-hub support)");
        o.store_path = f.store.substr(9);
    }
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
    o.snapshot_every = f.snapshot_every;
    o.breaker_threshold = std::max(1, f.breaker_threshold);
    auto b = engine::parse_balance_policy(f.balance);
    if (!b) throw core::error(core::error_kind::usage, "--balance must be least-loaded, round-robin, random or weighted");
    o.balance = *b;
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
    sub->callback([&ctx, f] {
        ctx.run = [f] {
            auto opts = to_options(*f);
            raise_open_file_limit();
            return engine::run_hub(opts);
        };
    });
}

}  // namespace orbitmesh::cli
