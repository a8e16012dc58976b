#include "transport/server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <cstdio>

#include "core/error.hpp"
#include "core/log.hpp"
#include "transport/beast.hpp"
#include "transport/http_session.hpp"
#include "transport/server_context.hpp"
#include "transport/tls.hpp"

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

void log_line(const std::string& text) { core::log::write("", core::log::level::info, text); }

std::shared_ptr<ssl::context> tls_context_for(const server_options& o) {
    return o.tls.enabled() ? make_server_tls(o.tls) : nullptr;
}

std::int64_t steady_now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

/// Registers a session and starts it; past --max-connections (or while stopping) it is dropped
/// before a byte is read: a flood of connections costs an accept and a close each.
template <class Stream>
void serve_http(const std::shared_ptr<server_context>& ctx, Stream stream, std::uint64_t id, peer_info peer) {
    static std::atomic<std::int64_t> last_full_log_ms{0};
    auto remote = peer.remote;
    auto session = std::make_shared<http_session<Stream>>(ctx, std::move(stream), id, std::move(peer));
    auto admitted = ctx->admit(id, session);
    if (admitted == server_context::admission::full) {
        auto now = steady_now_ms();
        auto last = last_full_log_ms.load();
        if (now - last >= 1000 && last_full_log_ms.compare_exchange_strong(last, now))
            log_line("connection limit of " + std::to_string(ctx->opts.max_connections) +
                     " reached (--max-connections): closing new connections, e.g. from " + remote);
    }
    if (admitted != server_context::admission::admitted) return;  // the socket closes with the session
    session->start();
}

/// A client that spoke plain HTTP to the TLS port gets one readable answer in plain HTTP
/// instead of a dropped connection.
net::awaitable<void> answer_plain_http(beast::tcp_stream& stream) {
    static const std::string body =
        R"json({"error":"invalid_input","message":"this hub speaks TLS on this port: use https:// (or wss:// for agents)"})json";
    static const std::string response = "HTTP/1.1 400 Bad Request\r\nServer: orbitmesh\r\nContent-Type: application/json\r\n"
                                        "Connection: close\r\nContent-Length: " + std::to_string(body.size()) +
                                        "\r\n\r\n" + body;
    error_code ec;
    co_await net::async_write(stream, net::buffer(response), with_ec(ec));
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

/// The TLS handshake comes first, on the connection's strand, within the handshake deadline;
/// then the connection is an HTTP session like any other, knowing the verified client
/// certificate's CN.
net::awaitable<void> serve_tls(std::shared_ptr<server_context> ctx, tcp::socket socket, std::uint64_t id,
                               std::string remote) {
    tls_stream stream(beast::tcp_stream(std::move(socket)), *ctx->tls);
    beast::get_lowest_layer(stream).expires_after(ctx->opts.handshake_timeout);
    error_code ec;
    co_await stream.async_handshake(ssl::stream_base::server, with_ec(ec));
    if (ec) {
        if (!ctx->stopping()) log_line("tls " + remote + ": handshake failed: " + describe_tls_failure(ec, stream));
        if (is_plain_http(ec)) co_await answer_plain_http(beast::get_lowest_layer(stream));
        beast::get_lowest_layer(stream).close();
        co_return;
    }
    if (ctx->stopping()) co_return;
    beast::get_lowest_layer(stream).expires_never();
    peer_info peer{std::move(remote), true, peer_common_name(stream)};
    serve_http(ctx, std::move(stream), id, std::move(peer));
}

}  // namespace

struct server::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io_ctx, server_options o, http_handler h, mesh_handler m, http_gate g)
        : io(io_ctx), acceptor(net::make_strand(io_ctx)) {
        auto tls = tls_context_for(o);
        ctx = std::make_shared<server_context>(std::move(o), std::move(h), std::move(m), std::move(g), std::move(tls));
    }

    net::io_context& io;
    std::shared_ptr<server_context> ctx;
    tcp::acceptor acceptor;
    std::atomic<std::uint16_t> bound_port{0};
    std::atomic<bool> started{false};
    std::atomic<bool> stopped{false};
    std::atomic<int> listen_fd{-1};

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
    if (ctx->tls) {
        auto executor = socket.get_executor();
        net::co_spawn(executor, serve_tls(ctx, std::move(socket), id, format_endpoint(remote)), net::detached);
        return;
    }
    serve_http(ctx, beast::tcp_stream(std::move(socket)), id, peer_info{format_endpoint(remote), false, {}});
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
