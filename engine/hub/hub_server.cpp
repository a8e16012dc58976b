#include "engine/hub/hub_server.hpp"

#include <atomic>
#include <csignal>
#include <fstream>
#include <map>
#include <thread>

#include <pthread.h>

#include "core/error.hpp"
#include "engine/hub/http_api.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"
#include "engine/hub/replay_routes.hpp"
#include "engine/workflow/runner.hpp"
#include "engine/workflow/workflow_routes.hpp"
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
    so.mode = opts.durability;
    return store::event_store::open(so);
}

// `serve --workflows DIR`, before the hub listens: every file is checked (a bad one stops the hub
// with its file:line), then registered through the runner as POST /api/v1/workflows does, and the
// io_context runs just until those registrations are committed. Unchanged files are no-ops.
// Nothing runs on the io_context yet, so reading the runner's registry from here is safe.
void register_workflow_dir(net::io_context& io, hub& h, const std::shared_ptr<runner>& rn,
                           const std::filesystem::path& dir) {
    std::map<std::string, std::filesystem::path> ids;
    std::vector<std::pair<std::string, std::string>> todo;  // (source, file name)
    for (const auto& path : workflow_files(dir)) {
        auto reg = rn->registry().check_file(path);
        if (auto [it, fresh] = ids.emplace(reg.entry.id, path); !fresh)
            throw core::error(core::error_kind::invalid_input, path.string() + ": workflow id \"" + reg.entry.id +
                                                                   "\" is also defined by " + it->second.string() +
                                                                   " (give each file its own id)");
        if (reg.event) todo.emplace_back(reg.entry.source, path.filename().string());
    }
    hub_log("workflows: " + std::to_string(ids.size()) + " in " + dir.string() + ", " + std::to_string(todo.size()) +
            " new or changed");
    if (todo.empty()) return;
    std::size_t left = todo.size();
    std::string failure;
    h.post([&] {
        for (const auto& [source, file] : todo)
            rn->register_workflow(source, file, [&left, &failure, &io, file](int status, const core::json& body) {
                if (status >= 400 && failure.empty()) failure = file + ": " + body.value("message", std::string{});
                if (--left == 0) io.stop();
            });
    });
    io.run();
    io.restart();
    if (!failure.empty()) throw core::error(core::error_kind::invalid_input, failure);
    if (left > 0) throw core::error(core::error_kind::storage, "the workflows of " + dir.string() + " could not be recorded");
}

}  // namespace

int run_hub(const hub_options& opts) {
    auto store = open_store(opts);
    net::io_context io;
    auto h = std::make_shared<hub>(io, opts, *store);
    // The workflow runner lives on the hub strand; it must be attached before recovery replays runs.
    strand_poster post = [weak = std::weak_ptr<hub>(h)](std::function<void()> fn) {
        if (auto hp = weak.lock()) hp->post(std::move(fn));
    };
    runner_options ro;
    ro.keep_finished = std::max<std::size_t>(1, opts.retain_runs);
    auto workflows = std::make_shared<runner>(h->jobs(), post, ro);
    h->attach(workflows);
    h->recover();
    if (!opts.workflows_dir.empty()) register_workflow_dir(io, *h, workflows, opts.workflows_dir);

    transport::server_options so;
    so.host = opts.host;
    so.port = opts.port;
    so.max_frame = opts.max_frame;
    transport::mesh_handler mesh{
        [h](const std::shared_ptr<transport::mesh_peer>& p) { h->on_open(p); },
        [h](const std::shared_ptr<transport::mesh_peer>& p, core::json m) { h->on_message(p, std::move(m)); },
        [h](const std::shared_ptr<transport::mesh_peer>& p, const std::string& why) { h->on_close(p, why); },
        nullptr,  // no auth yet: every upgrade to /mesh is accepted
    };
    auto routes = make_workflow_routes(workflows, post);
    routes.merge(make_replay_routes(store_file(opts)));
    transport::server srv(io, so, make_http_api(h, std::move(routes)), mesh);
    srv.start();
    if (!opts.port_file.empty()) write_port_file(opts.port_file, srv.port());
    hub_log("listening on " + opts.host + ":" + std::to_string(srv.port()) + ", data in " + opts.data_dir.string());

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
    if (opts.on_listening) opts.on_listening(srv.port());

    std::vector<std::thread> threads;
    for (int i = 1; i < std::max(1, opts.io_threads); ++i)
        threads.emplace_back([&] {
            pthread_setname_np(pthread_self(), "om-io");
            io.run();
        });
    io.run();
    io.stop();
    for (auto& t : threads) t.join();
    store->close();
    if (h->failed()) return 1;
    hub_log("stopped");
    return 0;
}

}  // namespace orbitmesh::engine
