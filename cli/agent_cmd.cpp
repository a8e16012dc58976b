// `orbitmesh agent`: run a worker that dials the hub.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/flag_parsing.hpp"
#include "cli/tls_flags.hpp"
#include "cli/settings_layers.hpp"
#include "core/error.hpp"
#include "engine/agent/agent_runtime.hpp"

namespace orbitmesh::cli {

namespace {

struct agent_flags {
    std::vector<std::string> servers;  // --server, repeatable or a comma list: failover order
    std::string name, data_dir, handlers, token, token_file, reconnect_min = "100ms", reconnect_max = "5s";
    std::string stop_grace = "10s", cgroups = "auto";
    std::string log_format = "text", log_level = "info";
    std::vector<std::string> tags, capabilities, allow_roots;
    int concurrency = 0;
    bool no_shell = false, json_format = false, sandbox = false, sandbox_network = false;
    std::string node, wasm_timeout = "60s";
    transport::tls_client_files tls;
};

std::string host_name() {
    char buf[256] = {};
    if (gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "agent";
    return buf;
}

engine::agent_options to_options(const agent_flags& f, const global_options& g) {
    engine::agent_options o;
    // Several hubs on one PostgreSQL store (SPEC §10): the agent dials the first and moves on to
    // the next after a failed attempt or a lost connection, with the same jittered backoff.
    std::vector<std::string> servers;
    for (const auto& s : f.servers)
        if (!s.empty()) servers.push_back(s);
    if (servers.empty()) servers.push_back(resolve_server(g.server));
    o.server = core::parse_server_url(servers.front());
    for (std::size_t i = 1; i < servers.size(); ++i) o.more_servers.push_back(core::parse_server_url(servers[i]));
    o.name = f.name.empty() ? host_name() : f.name;
    if (o.name.find('/') != std::string::npos || o.name.size() > 128)
        throw core::error(core::error_kind::usage, "--name \"" + o.name + "\" must be at most 128 characters without '/'");
    o.tags = parse_pairs(f.tags, "--tag");
    o.capabilities = f.capabilities;
    if (f.concurrency < 0) throw core::error(core::error_kind::usage, "--concurrency must be 0 (one per core) or more");
    o.concurrency = f.concurrency;
    o.data_dir = f.data_dir.empty() ? std::filesystem::path(".orbitmesh") / "agents" / o.name : std::filesystem::path(f.data_dir);
    o.handlers_dir = f.handlers;
    for (const auto& r : f.allow_roots) o.allowed_roots.emplace_back(r);
    o.no_shell = f.no_shell;
    o.sandbox = f.sandbox;
    if (f.sandbox_network && !f.sandbox) throw core::error(core::error_kind::usage, "--sandbox-network needs --sandbox");
    o.sandbox_network = f.sandbox_network;
    o.node = f.node;
    o.wasm_timeout_ms = positive_duration(f.wasm_timeout, "--wasm-timeout");
    o.reconnect_min_ms = positive_duration(f.reconnect_min, "--reconnect-min");
    o.reconnect_max_ms = positive_duration(f.reconnect_max, "--reconnect-max");
    if (o.reconnect_max_ms < o.reconnect_min_ms)
        throw core::error(core::error_kind::usage, "--reconnect-max must not be below --reconnect-min");
    o.stop_grace_ms = duration_flag(f.stop_grace, "--stop-grace");
    if (f.cgroups != "auto" && f.cgroups != "off")
        throw core::error(core::error_kind::usage, "--cgroups must be auto or off, not \"" + f.cgroups + "\"");
    o.cgroups = f.cgroups == "auto";
    o.json_format = f.json_format;
    o.version = ORBITMESH_VERSION;
    o.verbose = g.verbose;
    o.token = resolve_token(f.token.empty() ? g.token : f.token, f.token_file.empty() ? g.token_file : f.token_file);
    auto tls = f.tls;
    if (tls.ca_file.empty()) tls.ca_file = g.ca_file;
    o.tls = resolve_client_tls(tls);
    return o;
}

}  // namespace

void add_agent_command(CLI::App& app, command_context& ctx) {
    auto f = std::make_shared<agent_flags>();
    auto* sub = app.add_subcommand("agent", "Run a worker: dial the hub, take jobs, run them, report results");
    sub->add_option("--server", f->servers,
                    "Hub address: http(s)://HOST:PORT or ws(s)://HOST:PORT/mesh (env ORBITMESH_SERVER); repeat or "
                    "comma-separate several hubs to fail over between")
        ->delimiter(',');
    sub->add_option("--name", f->name, "Agent name (default: host name)");
    sub->add_option("--tag", f->tags, "KEY=VALUE tag for targeting (repeat)");
    sub->add_option("--capability", f->capabilities, "Capability this agent offers (repeat)");
    sub->add_option("--concurrency", f->concurrency, "Jobs run at once (0: one per core)")->capture_default_str();
    sub->add_option("--data-dir", f->data_dir, "Agent id and outbox (default ./.orbitmesh/agents/NAME)");
    sub->add_option("--handlers", f->handlers, "Directory of plugin handler executables");
    sub->add_option("--allow-root", f->allow_roots, "Directory file.* handlers may touch (repeat; default DATA_DIR/files)");
    sub->add_flag("--no-shell", f->no_shell, "Refuse shell and exec jobs");
    sub->add_flag("--sandbox", f->sandbox, "Run shell and exec jobs with bubblewrap in fresh namespaces: only their working dir writable, no network");
    sub->add_flag("--sandbox-network", f->sandbox_network, "With --sandbox: let jobs that ask (limits.network: true) use the network");
    sub->add_option("--node", f->node, "Node.js for wasm jobs (default: $ORBITMESH_NODE, node or nodejs in PATH)")->type_name("PATH");
    sub->add_option("--wasm-timeout", f->wasm_timeout, "Time limit of a wasm job that has no timeout of its own")->capture_default_str();
    sub->add_option("--reconnect-min", f->reconnect_min, "Shortest reconnect delay")->capture_default_str();
    sub->add_option("--reconnect-max", f->reconnect_max, "Longest reconnect delay")->capture_default_str();
    sub->add_option("--stop-grace", f->stop_grace, "On SIGTERM/SIGINT: time running jobs get between SIGTERM and SIGKILL")
        ->capture_default_str();
    sub->add_option("--cgroups", f->cgroups, "auto: a cgroup v2 per job where the agent may create one; off: never")
        ->capture_default_str();
    sub->add_flag("--json-protocol", f->json_format, "Speak orbitmesh.json (text frames) instead of MessagePack");
    sub->add_option("--token", f->token, "Access token with role agent (env ORBITMESH_TOKEN)");
    sub->add_option("--token-file", f->token_file, "Read the access token from the first line of this file");
    add_agent_tls_flags(*sub, f->tls);
    sub->add_flag("-v,--verbose", ctx.global.verbose, "Log ignored messages and other detail on stderr");
    sub->add_option("--log-format", f->log_format, "Log lines on stderr: text, or json (one object per line with job ids as fields)")
        ->capture_default_str();
    sub->add_option("--log-level", f->log_level, "Least severe log events shown: debug, info, warn or error (-v means debug)")
        ->capture_default_str();
    ctx.settings[sub] = add_settings_flags(*sub);
    sub->callback([&ctx, f, sub] {
        if (!sub->get_subcommands().empty()) return;  // `agent drain|undrain AGENT` (twin_cmd.cpp) set ctx.run
        ctx.run = [f, &ctx] {
            configure_logging(f->log_format, f->log_level);
            return engine::run_agent(to_options(*f, ctx.global));
        };
    });
}

}  // namespace orbitmesh::cli
