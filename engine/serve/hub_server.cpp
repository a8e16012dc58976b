#include "engine/serve/hub_server.hpp"

#include <atomic>
#include <csignal>
#include <cstdio>
#include <fstream>
#include <future>
#include <map>
#include <thread>

#include <unistd.h>

#include <pthread.h>

#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/url.hpp"
#include "engine/auth/key_files.hpp"
#include "engine/dashboard/dashboard_routes.hpp"
#include "engine/auth/token_routes.hpp"
#include "engine/events/event_feed.hpp"
#include "engine/events/event_routes.hpp"
#include "engine/events/otlp_exporter.hpp"
#include "engine/hub/http_api.hpp"
#include "engine/hub/http_json.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_log.hpp"
#include "engine/hub/mesh_identity.hpp"
#include "engine/hub/mesh_intake.hpp"
#include "engine/replay/replay_routes.hpp"
#include "engine/hub/twin_routes.hpp"
#include "engine/serve/http_front.hpp"
#include "engine/serve/openapi.hpp"
#include "engine/workflow/runner.hpp"
#include "engine/workflow/trigger_engine.hpp"
#include "engine/workflow/trigger_routes.hpp"
#include "engine/workflow/workflow_routes.hpp"
#include "store/shared_log.hpp"
#include "store/store_url.hpp"
#include "transport/asio.hpp"
#include "transport/server.hpp"

namespace orbitmesh::engine {

namespace {

void write_port_file(const std::filesystem::path& file, std::uint16_t port) {
    // Write then rename, so a reader never sees a half-written port.
    auto tmp = file;
    tmp += ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << "\n";
        if (!out) throw core::error(core::error_kind::usage, "cannot write the port file " + file.string());
    }
    std::filesystem::rename(tmp, file);
}

std::filesystem::path store_file(const hub_options& opts) {
    return opts.store_path.empty() ? opts.data_dir / "orbitmesh.db" : opts.store_path;
}

std::unique_ptr<store::event_store> open_store(const hub_options& opts) {
    std::error_code ec;
    std::filesystem::create_directories(opts.data_dir, ec);
    if (ec)
        throw core::error(core::error_kind::usage,
                          "cannot create the data dir " + opts.data_dir.string() + ": " + ec.message() + " (check --data-dir)");
    store::event_store::options so;
    so.path = store_file(opts);
    so.url = opts.store_url;
    so.on_wait = [](const std::string& why) { hub_log(why); };
    so.mode = opts.durability;
    if (opts.shared_store) so.hub_id = opts.hub_id;
    return store::event_store::open(so);
}

/// `--hub-id`, else the one this data dir was given the first time (DATA_DIR/hub-id): the host
/// name and a random suffix, so a restarted hub is the same hub to the others.
std::string resolve_hub_id(const hub_options& opts) {
    if (!opts.hub_id.empty()) return opts.hub_id;
    const auto file = opts.data_dir / "hub-id";
    {
        std::ifstream in(file);
        std::string id;
        if (in >> id && !id.empty()) return id;
    }
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0 || host[0] == 0) std::snprintf(host, sizeof host, "hub");
    const auto suffix = core::new_id();
    const std::string id = std::string(host) + "-" + suffix.substr(suffix.size() - 8);
    std::ofstream out(file, std::ios::trunc);
    out << id << "\n";
    if (!out) throw core::error(core::error_kind::usage, "cannot write " + file.string() + " (check --data-dir)");
    return id;
}

/// The shared store's follower (SPEC §10): other hubs' events and heartbeats into the hub.
std::unique_ptr<store::shared_log> follow_peers(const hub_options& opts, const std::shared_ptr<hub>& h, std::uint16_t port) {
    store::shared_log::options lo;
    lo.url = opts.store_url;
    lo.hub_id = opts.hub_id;
    lo.address = opts.host + ":" + std::to_string(port);
    lo.after_seq = h->folded_seq();
    std::weak_ptr<hub> weak = h;
    lo.on_events = [weak](std::vector<core::event> events) {
        if (auto hp = weak.lock()) hp->on_foreign_events(std::move(events));
    };
    lo.on_logs = [weak](std::vector<std::string> job_ids, bool all) {
        if (auto hp = weak.lock()) hp->on_foreign_logs(std::move(job_ids), all);
    };
    lo.on_hubs = [weak](std::vector<store::peer_hub> hubs) {
        if (auto hp = weak.lock()) hp->on_peer_hubs(std::move(hubs));
    };
    lo.on_error = [](const std::string& why) { hub_log(core::log::level::warn, why, {}); };
    hub_log("shared store: this is hub " + opts.hub_id + "; following the other hubs' events");
    return store::shared_log::open(std::move(lo));
}

/// Waits for `done` while the io threads run; throws core::error{storage} when the io_context
/// stopped first (a failed commit stops the hub).
void wait_on_io(net::io_context& io, std::future<void>& done, const std::string& what) {
    while (done.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready)
        if (io.stopped()) throw core::error(core::error_kind::storage, what + " could not finish: the hub stopped");
    done.get();  // rethrows what the work threw
}

// `serve --workflows DIR`, once recovered: every file is checked (a bad one stops the hub with its
// file:line), then registered through the runner as POST /api/v1/workflows does, on the hub
// strand; this waits until those registrations are committed. Unchanged files are no-ops.
void register_workflow_dir(net::io_context& io, hub& h, const std::shared_ptr<runner>& rn,
                           const std::filesystem::path& dir) {
    std::map<std::string, std::filesystem::path> ids;
    std::vector<std::pair<std::string, std::string>> todo;  // (source, file name)
    std::promise<void> checked;
    auto checked_done = checked.get_future();
    // The registry belongs to the strand now that the io threads run.
    h.post([&] {
        try {
            for (const auto& path : workflow_files(dir)) {
                auto reg = rn->registry().check_file(path);
                if (auto [it, fresh] = ids.emplace(reg.entry.id, path); !fresh)
                    throw core::error(core::error_kind::invalid_input,
                                      path.string() + ": workflow id \"" + reg.entry.id + "\" is also defined by " +
                                          it->second.string() + " (give each file its own id)");
                if (reg.event) todo.emplace_back(reg.entry.source, path.filename().string());
            }
            checked.set_value();
        } catch (...) {
            checked.set_exception(std::current_exception());
        }
    });
    wait_on_io(io, checked_done, "checking the workflows of " + dir.string());
    hub_log("workflows: " + std::to_string(ids.size()) + " in " + dir.string() + ", " + std::to_string(todo.size()) +
            " new or changed");
    if (todo.empty()) return;
    auto left = std::make_shared<std::size_t>(todo.size());
    auto failure = std::make_shared<std::string>();
    auto registered = std::make_shared<std::promise<void>>();
    auto registered_done = registered->get_future();
    h.post([todo, rn, left, failure, registered] {
        for (const auto& [source, file] : todo)
            rn->register_workflow(source, file, [left, failure, registered, file = file](int status, const core::json& body) {
                if (status >= 400 && failure->empty()) *failure = file + ": " + body.value("message", std::string{});
                if (--*left == 0) registered->set_value();
            });
    });
    wait_on_io(io, registered_done, "recording the workflows of " + dir.string());
    if (!failure->empty()) throw core::error(core::error_kind::invalid_input, *failure);
}

/// Recovery runs on the hub strand while the listener already answers (`/readyz` says
/// `starting`); this returns once the fold and the observers' `recovered()` are done.
void recover_on_strand(net::io_context& io, hub& h) {
    std::promise<void> recovered;
    auto done = recovered.get_future();
    h.post([&h, &recovered] {
        try {
            h.recover();
        } catch (...) {
            recovered.set_exception(std::current_exception());
            return;
        }
        h.post([&recovered] { recovered.set_value(); });  // after what recover() posted
    });
    wait_on_io(io, done, "recovery");
}

/// Until the hub is ready only the health checks answer; everything else (and /mesh) gets 503, so
/// nothing reaches a hub that is still folding its log.
std::optional<transport::http_response> refuse_while_starting(const std::atomic<int>& phase, const transport::http_request& head) {
    if (phase.load() != 0 || head.path == "/healthz" || head.path == "/readyz") return std::nullopt;
    auto r = json_response(503, {{"error", "unavailable"},
                                 {"message", "the hub is starting (recovering its state from the event log); retry in a moment"}});
    r.headers.emplace_back("Retry-After", "1");
    return r;
}

template <class Gate>
Gate while_starting(std::shared_ptr<const std::atomic<int>> phase, Gate inner) {
    return [phase, inner = std::move(inner)](transport::http_request& head) -> std::optional<transport::http_response> {
        if (auto refusal = refuse_while_starting(*phase, head)) return refusal;
        return inner ? inner(head) : std::nullopt;
    };
}

/// What the listening line adds about TLS, so an operator sees at once what agents need.
std::string listen_note(const hub_options& opts) {
    if (!opts.tls.enabled()) return "";
    if (opts.tls.client_ca_file.empty()) return " (TLS)";
    return " (TLS; agents need a client certificate from " + opts.tls.client_ca_file + ")";
}

/// The outermost guard: an exception escaping any io handler (the hub's own handlers are guarded
/// where they know which connection or request to fail) is logged and the thread carries on.
void run_io(net::io_context& io) {
    for (;;) {
        try {
            io.run();
            return;
        } catch (const std::exception& e) {
            hub_log(std::string("error: internal error escaped an io handler: ") + e.what() + "; carrying on");
        }
    }
}

runner_options runner_options_of(const hub_options& opts) {
    runner_options ro;
    ro.js = js_engine::locate(opts.node);
    ro.script_limits.timeout_ms = opts.script_timeout_ms;
    ro.script_limits.memory_mb = opts.script_memory_mb;
    ro.http = http_policy(opts.http_allow);
    ro.http_max_response = opts.http_max_response;
    ro.notify_channels = opts.notify_channels;
    ro.keep_finished = std::max<std::size_t>(1, opts.retain_runs);
    return ro;
}

/// Tokens (SPEC §8): the service that issues and revokes them, attached to the hub before it
/// recovers so it folds the `token-*` streams; revocations close the connections that used them.
std::shared_ptr<auth::token_service> attach_tokens(hub& h, store::event_store& store, std::shared_ptr<const auth::jwt_key> key,
                                                   std::shared_ptr<auth::revocation_list> revoked) {
    auto scan = [&store](const std::function<void(const core::event&)>& fn) { store.for_each_event_in("token-", fn); };
    auto close = [weak = h.weak_from_this()](const std::string& id, const std::string& family, const std::string& reason) {
        if (auto hp = weak.lock()) hp->close_sessions_of(id, family, reason);
    };
    auto tokens = std::make_shared<auth::token_service>(h.jobs(), std::move(key), std::move(revoked), scan, close);
    h.attach(tokens);
    return tokens;
}

/// Every HTTP route, each with who may call it; `GET /api/v1/routes` shows the table itself.
std::shared_ptr<route_table> all_routes(const std::shared_ptr<hub>& h, const std::shared_ptr<runner>& workflows,
                                        const std::shared_ptr<trigger_engine>& triggers, const strand_poster& post, const std::shared_ptr<auth::token_service>& tokens,
                                        const std::shared_ptr<auth::authenticator>& authn,
                                        const std::filesystem::path& store, const std::string& store_url,
                                        const std::shared_ptr<event_feed>& feed, build_info build) {
    auto routes = std::make_shared<route_table>();
    add_hub_routes(*routes, h, build);
    add_event_stream_route(*routes, feed);
    add_twin_routes(*routes, h);
    add_workflow_routes(*routes, workflows, post);
    add_replay_routes(*routes, store, store_url);
    add_trigger_routes(*routes, triggers, post);
    auth::add_token_routes(*routes, tokens, post, authn);
    add_dashboard_routes(*routes);
    routes->add("GET", "/api/v1/openapi.json", operators,
                [doc = std::make_shared<const core::json>(openapi_document(build.version))](
                    const transport::http_request&, const route_params&, const core::principal&,
                    transport::http_reply reply) { reply(json_response(200, *doc)); });
    routes->add("GET", "/api/v1/routes", admins,
                [table = routes.get()](const transport::http_request&, const route_params&, const core::principal&,
                                       transport::http_reply reply) { reply(json_response(200, table->describe())); });
    return routes;
}

void log_auth(const hub_options& opts, const auth::jwt_key& key) {
    if (opts.require_tokens) {
        hub_log("auth: tokens required (" + std::string(auth::jwt_alg_name(key.alg())) + ")");
    } else if (opts.insecure_no_auth) {
        hub_log("WARNING: authentication is OFF on " + opts.host + " (--insecure-no-auth): anyone who can reach this "
                "port can run commands on every agent");
    } else {
        hub_log("auth: none (loopback only); `--auth token` requires tokens");
    }
}

transport::server_options server_options_of(const hub_options& opts) {
    transport::server_options so;
    so.host = opts.host;
    so.port = opts.port;
    so.max_frame = opts.max_frame;
    so.max_http_body = opts.max_http_body;
    so.max_connections = opts.max_connections;
    so.handshake_timeout = std::chrono::milliseconds(opts.handshake_timeout_ms);
    so.tls = opts.tls;
    return so;
}

}  // namespace

int run_hub(const hub_options& given) {
    transport::check_server_tls(given.tls);  // a bad certificate file stops us before the store is touched
    hub_options opts = given;
    if (opts.shared_store) {
        std::error_code ec;
        std::filesystem::create_directories(opts.data_dir, ec);
        opts.hub_id = resolve_hub_id(opts);
    }
    auto store = open_store(opts);
    net::io_context io;
    auto h = std::make_shared<hub>(io, opts, *store);
    // The workflow runner lives on the hub strand; it must be attached before recovery replays runs.
    strand_poster post = [weak = std::weak_ptr<hub>(h)](std::function<void()> fn) {
        if (auto hp = weak.lock()) hp->post(std::move(fn));
    };
    auto workflows = std::make_shared<runner>(h->jobs(), post, runner_options_of(opts));
    h->attach(workflows);
    // Triggers fold their streams at recovery and arm once the runner has its registry back.
    auto triggers = std::make_shared<trigger_engine>(h->jobs(), workflows);
    triggers->connect();
    h->attach(triggers);
    auto key = auth::load_hub_key(opts.data_dir, opts.jwt_key_file);
    auto revoked = std::make_shared<auth::revocation_list>();
    auto tokens = attach_tokens(*h, *store, key, revoked);
    // The event stream tails the log on its own thread and read connection, woken after each commit.
    auto feed = std::make_shared<event_feed>(event_feed::options{
        .store_file = store_file(opts), .store_url = opts.store_url, .max_clients = opts.max_event_clients, .write_timeout_ms = opts.event_write_timeout_ms});
    h->on_commit([feed] { feed->notify(); });
    std::shared_ptr<otlp_exporter> otlp;
    if (!opts.otlp_endpoint.empty()) {
        otlp = std::make_shared<otlp_exporter>(core::parse_server_url(opts.otlp_endpoint), opts.version);
        h->attach(otlp);
        hub_log("traces: finished jobs' spans go to " + opts.otlp_endpoint + " (OTLP/HTTP JSON)");
    }
    auto phase = std::make_shared<std::atomic<int>>(0);  // GET /readyz: starting

    auth::authenticator::options ao;
    ao.mode = opts.require_tokens ? auth::auth_mode::token : auth::auth_mode::none;
    ao.limits.max_failures = opts.max_auth_failures;
    auto authn = std::make_shared<auth::authenticator>(ao, key, revoked);
    auto door = make_front_door(all_routes(h, workflows, triggers, post, tokens, authn, store_file(opts), opts.store_url, feed,
                                           build_info{opts.version, opts.commit, phase}),
                                authn);
    auto mesh = make_mesh_handler(h);
    mesh.on_upgrade = while_starting(phase, door.mesh_gate);
    if (!opts.tls.client_ca_file.empty()) mesh.on_upgrade = require_client_certificate(std::move(mesh.on_upgrade));
    transport::server srv(io, server_options_of(opts), door.handler, mesh, while_starting(phase, door.gate));
    srv.start();  // a port in use stops us here, before the log is read
    workflows->set_hub_address(opts.host, srv.port());
    log_auth(opts, *key);

    // Shutdown order (STYLE §4): stop accepting, tell sessions, let the hub reply to its waiters,
    // give in-flight writes a moment, then stop the io_context and drain the store.
    net::signal_set signals(io);
    if (!opts.stop_token) {  // an in-process hub leaves the process's signals alone
        signals.add(SIGINT);
        signals.add(SIGTERM);
    }
    net::steady_timer grace(io);
    std::atomic<bool> stopping{false};  // signal and stop-token handlers may race on two io threads
    auto begin_stop = [&] {
        if (stopping.exchange(true)) return;
        hub_log("stopping");
        phase->store(2);
        feed->stop();  // open streams never end on their own
        srv.stop();
        h->shutdown();
        grace.expires_after(std::chrono::milliseconds(200));
        grace.async_wait([&](const boost::system::error_code&) { io.stop(); });
    };
    signals.async_wait([&](const boost::system::error_code& ec, int) {
        if (!ec) begin_stop();
    });
    net::steady_timer stop_poll(io);
    std::function<void()> poll_stop = [&] {
        stop_poll.expires_after(std::chrono::milliseconds(100));
        stop_poll.async_wait([&](const boost::system::error_code& ec) {
            if (ec) return;
            if (opts.stop_token->load()) begin_stop();
            else poll_stop();
        });
    };
    if (opts.stop_token) poll_stop();

    std::vector<std::thread> threads;
    for (int i = 0; i < std::max(1, opts.io_threads); ++i)
        threads.emplace_back([&] {
            pthread_setname_np(pthread_self(), "om-io");
            run_io(io);
        });
    auto stop_threads = [&] {
        io.stop();
        for (auto& t : threads) t.join();
        feed->stop();
        if (otlp) otlp->stop();  // spans queued before the stop are sent (each POST bounded)
    };
    std::unique_ptr<store::shared_log> peers;
    try {
        recover_on_strand(io, *h);
        if (opts.shared_store) peers = follow_peers(opts, h, srv.port());
        if (!opts.workflows_dir.empty()) register_workflow_dir(io, *h, workflows, opts.workflows_dir);
    } catch (...) {
        if (peers) peers->stop();
        if (stopping.load()) {  // stopped while starting: nothing more to do
            stop_threads();
            store->close();
            hub_log("stopped");
            return h->failed() ? 1 : 0;
        }
        stop_threads();
        throw;
    }
    if (!stopping.load()) {
        phase->store(1);  // recovered, workflows registered: ready
        if (!opts.port_file.empty()) write_port_file(opts.port_file, srv.port());
        hub_log("listening on " + std::string(opts.tls.enabled() ? "https://" : "http://") + opts.host + ":" +
                std::to_string(srv.port()) + listen_note(opts) + ", data in " + opts.data_dir.string() +
                (opts.store_url.empty() ? "" : ", store " + store::redacted_url(opts.store_url)));
        if (opts.on_listening) opts.on_listening(srv.port());
    }
    for (auto& t : threads) t.join();
    io.stop();
    if (peers) peers->stop();
    feed->stop();
    if (otlp) otlp->stop();
    workflows->drain_notifications();  // webhooks in flight finish (bounded); queued ones are re-sent after a restart
    store->close();
    if (h->failed()) return 1;
    hub_log("stopped");
    return 0;
}

}  // namespace orbitmesh::engine
