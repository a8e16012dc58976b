#include "transport/server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cstdio>

#include "core/error.hpp"
#include "transport/beast.hpp"
#include "transport/http_session.hpp"
#include "transport/server_context.hpp"
#include "transport/server_log.hpp"

namespace orbitmesh::transport {
namespace {

std::string format_endpoint(const tcp::endpoint& ep) {
    auto addr = ep.address().to_string();
    if (ep.address().is_v6()) addr = "[" + addr + "]";
    return addr + ":" + std::to_string(ep.port());
}

std::string format_host_port(const std::string& host, std::uint16_t port) {
    bool v6 = host.find(':') != std::string::npos;
    return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

/// Out of file descriptors: accepting again at once would spin.
bool is_resource_exhaustion(const error_code& ec) {
    return ec == net::error::no_descriptors || ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

std::atomic<bool> quiet_logs{false};

}  // namespace

void set_server_log_quiet(bool quiet) { quiet_logs.store(quiet, std::memory_order_relaxed); }

void server_log(const std::string& text) {
    if (quiet_logs.load(std::memory_order_relaxed)) return;
    std::string line = "orbitmesh: " + text + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

struct server::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io_ctx, server_options o, http_handler h, mesh_handler m, http_gate g)
        : io(io_ctx), ctx(std::make_shared<server_context>(std::move(o), std::move(h), std::move(m), std::move(g))),
          acceptor(net::make_strand(io_ctx)) {}

    net::io_context& io;
    std::shared_ptr<server_context> ctx;
    tcp::acceptor acceptor;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<bool> started{false};
    std::atomic<bool> stopped{false};
    std::atomic<int> listen_fd{-1};
    std::int64_t last_full_log_ms = 0;  // acceptor strand only

    tcp::endpoint resolve_listen_endpoint() const;
    void bind_and_listen();
    net::awaitable<void> accept_connections();
    void start_session(tcp::socket socket);
};

tcp::endpoint server::impl::resolve_listen_endpoint() const {
    const auto& o = ctx->opts;
    error_code ec;
    auto addr = net::ip::make_address(o.host.empty() ? "0.0.0.0" : o.host, ec);
    if (!ec) return {addr, o.port};
    tcp::resolver resolver(io);
    auto results = resolver.resolve(o.host, std::to_string(o.port), tcp::resolver::passive, ec);
    if (ec || results.empty())
        throw core::error(core::error_kind::unavailable,
                          "cannot listen on " + format_host_port(o.host, o.port) + ": cannot resolve the host: " +
                              (ec ? ec.message() : std::string("no address")));
    return results.begin()->endpoint();
}

void server::impl::bind_and_listen() {
    auto endpoint = resolve_listen_endpoint();
    error_code ec;
    auto fail = [&](const char* step) {
        throw core::error(core::error_kind::unavailable, "cannot listen on " +
                                                             format_host_port(ctx->opts.host, ctx->opts.port) + ": " +
                                                             step + ": " + ec.message());
    };
    acceptor.open(endpoint.protocol(), ec);
    if (ec) fail("open");
    acceptor.set_option(net::socket_base::reuse_address(true), ec);  // a restarted hub rebinds at once
    if (ec) fail("SO_REUSEADDR");
    acceptor.bind(endpoint, ec);
    if (ec) fail("bind");
    acceptor.listen(net::socket_base::max_listen_connections, ec);
    if (ec) fail("listen");
    bound_port = acceptor.local_endpoint().port();
    listen_fd = acceptor.native_handle();
}

net::awaitable<void> server::impl::accept_connections() {
    auto self = shared_from_this();
    for (;;) {
        error_code ec;
        // Each connection gets its own strand: its session never runs on two threads at once.
        tcp::socket socket = co_await acceptor.async_accept(net::any_io_executor(net::make_strand(io)), with_ec(ec));
        if (ctx->stopping() || !acceptor.is_open()) co_return;
        if (ec == net::error::operation_aborted) co_return;
        if (is_resource_exhaustion(ec)) {
            net::steady_timer pause(acceptor.get_executor(), std::chrono::milliseconds(100));
            co_await pause.async_wait(with_ec(ec));
            continue;
        }
        if (ec) continue;  // the client gave up during accept: nothing to serve
        start_session(std::move(socket));
    }
}

void server::impl::start_session(tcp::socket socket) {
    error_code ec;
    auto remote = socket.remote_endpoint(ec);
    if (ec) return;  // already gone
    socket.set_option(tcp::no_delay(true), ec);  // small frames are the common case: no Nagle delay
    auto id = ctx->next_id();
    auto session = std::make_shared<http_session>(ctx, std::move(socket), id, format_endpoint(remote));
    auto admitted = ctx->admit(id, session);
    if (admitted == server_context::admission::full) {
        // Closed before a byte is read: a flood of connections costs an accept and a close each.
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
        if (now - last_full_log_ms >= 1000) {
            last_full_log_ms = now;
            server_log("connection limit of " + std::to_string(ctx->opts.max_connections) + " reached (--max-connections): closing new connections, e.g. from " + format_endpoint(remote));
        }
    }
    if (admitted != server_context::admission::admitted) return;  // the socket closes with the session
    session->start();
}

server::server(boost::asio::io_context& io, server_options opts, http_handler http, mesh_handler mesh, http_gate gate)
    : impl_(std::make_shared<impl>(io, std::move(opts), std::move(http), std::move(mesh), std::move(gate))) {}

server::~server() { stop(); }

void server::start() {
    if (impl_->started.exchange(true))
        throw core::error(core::error_kind::internal, "server::start() called twice");
    impl_->bind_and_listen();
    net::co_spawn(impl_->acceptor.get_executor(), [self = impl_] { return self->accept_connections(); },
                  net::detached);
}

std::uint16_t server::port() const { return impl_->bound_port.load(); }

void server::stop() {
    if (impl_->stopped.exchange(true)) return;
    auto sessions = impl_->ctx->begin_stop();
    // Give the port back now rather than when the posted close runs, so a server started right
    // after this one (an in-process restart) binds at once. shutdown(2) is safe from any thread
    // and wakes the pending accept, which then sees `stopping`.
    if (int fd = impl_->listen_fd.load(); fd >= 0) ::shutdown(fd, SHUT_RDWR);
    net::post(impl_->acceptor.get_executor(), [self = impl_] {
        error_code ec;
        self->acceptor.close(ec);
    });
    for (auto& s : sessions) s->shut_down();
}

}  // namespace orbitmesh::transport
