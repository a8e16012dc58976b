#include "transport/mesh_client.hpp"

#include <atomic>
#include <mutex>
#include <optional>

#include "core/protocol.hpp"
#include "transport/ws_link.hpp"

namespace orbitmesh::transport {
namespace {

namespace protocol = core::protocol;

constexpr std::size_t client_write_buffer_bytes = 256u << 10;

std::string ms_text(std::chrono::milliseconds d) {
    return d.count() % 1000 == 0 ? std::to_string(d.count() / 1000) + "s" : std::to_string(d.count()) + "ms";
}

/// One connect() attempt and the connection it may become.
struct connection {
    connection(link_options lo, const net::any_io_executor& strand, mesh_client::callbacks c)
        : link(std::make_shared<ws_link>(std::move(lo), strand)), resolver(strand), cb(std::move(c)) {}

    std::shared_ptr<ws_link> link;
    tcp::resolver resolver;
    mesh_client::callbacks cb;
    std::atomic<bool> open{false};          // handshake done, not yet ended
    std::optional<std::string> local_close;  // strand: close() came before the handshake finished
    int refused_status = 0;                  // strand: the HTTP status of a declined upgrade
};

/// "the hub refused the connection: HTTP 401 Unauthorized: <message>".
std::string describe_refusal(const websocket::response_type& res) {
    std::string text = "HTTP " + std::to_string(res.result_int());
    if (!res.reason().empty()) text += " " + std::string(to_sv(res.reason()));
    std::string detail = res.body();
    auto body = core::json::parse(detail, nullptr, false);
    if (body.is_object() && body.contains("message") && body["message"].is_string())
        detail = body["message"].get<std::string>();
    if (detail.size() > 200) detail = detail.substr(0, 200) + "...";
    if (!detail.empty()) text += ": " + detail;
    return text;
}

}  // namespace

struct mesh_client::impl : std::enable_shared_from_this<impl> {
    impl(net::io_context& io, options o) : opts(std::move(o)), strand(net::make_strand(io)) {
        if (opts.url.path.empty()) opts.url.path = "/mesh";
    }

    options opts;
    net::any_io_executor strand;
    std::mutex mu;
    std::shared_ptr<connection> current;  // guarded by mu
    std::atomic<bool> abandoned{false};   // the mesh_client is gone: no more callbacks

    link_options link_opts() const;
    std::shared_ptr<connection> current_connection();
    net::awaitable<void> run(std::shared_ptr<connection> conn);
    net::awaitable<std::string> dial(std::shared_ptr<connection> conn);
    net::awaitable<std::string> handshake(connection& conn);
    void finish(const std::shared_ptr<connection>& conn, const std::string& reason);
};

link_options mesh_client::impl::link_opts() const {
    link_options lo;
    lo.json_text = opts.json_format;
    lo.max_frame = opts.max_frame;
    lo.max_send_queue = opts.max_send_queue;
    lo.remote = opts.url.host_port();
    lo.peer_word = "hub";
    lo.log_closes = false;  // the agent logs on_closed's reason itself
    return lo;
}

std::shared_ptr<connection> mesh_client::impl::current_connection() {
    std::lock_guard lock(mu);
    return current;
}

net::awaitable<void> mesh_client::impl::run(std::shared_ptr<connection> conn) {
    auto self = shared_from_this();
    std::string reason;
    if (opts.url.tls)
        reason = "cannot connect to " + opts.url.host_port() +
                 ": TLS (wss:// or https://) is not supported by this build yet; use ws:// or http://";
    if (reason.empty()) reason = co_await dial(conn);
    if (reason.empty()) reason = co_await handshake(*conn);
    if (!reason.empty() && conn->local_close) reason = "closed before connecting: " + *conn->local_close;
    if (reason.empty()) {
        conn->open = true;
        if (conn->local_close) conn->link->request_close(protocol::close_normal, *conn->local_close);
        else if (conn->cb.on_connected && !abandoned) conn->cb.on_connected();
        reason = co_await conn->link->read_frames([this, &conn](core::json msg) {
            if (conn->cb.on_message && !abandoned) conn->cb.on_message(std::move(msg));
        });
    }
    finish(conn, reason);
}

net::awaitable<std::string> mesh_client::impl::dial(std::shared_ptr<connection> conn) {
    const auto& url = opts.url;
    // The resolver has no deadline of its own: a timer cancels it.
    auto guard = std::make_shared<net::steady_timer>(strand, opts.connect_timeout);
    guard->async_wait([conn](const error_code& ec) {
        if (!ec) conn->resolver.cancel();
    });
    error_code ec;
    auto results = co_await conn->resolver.async_resolve(url.host, std::to_string(url.port), with_ec(ec));
    bool resolve_timed_out = guard->expiry() <= net::steady_timer::clock_type::now();
    guard->cancel();
    if (ec)
        co_return "cannot resolve " + url.host + ": " +
            (resolve_timed_out ? "timed out after " + ms_text(opts.connect_timeout) : ec.message());
    auto& stream = beast::get_lowest_layer(conn->link->ws());
    stream.expires_after(opts.connect_timeout);
    co_await stream.async_connect(results, with_ec(ec));
    if (ec == beast::error::timeout)
        co_return "cannot connect to " + url.host_port() + ": timed out after " + ms_text(opts.connect_timeout);
    if (ec) co_return "cannot connect to " + url.host_port() + ": " + ec.message();
    stream.socket().set_option(tcp::no_delay(true), ec);
    stream.expires_never();  // the websocket timeouts take over
    co_return std::string();
}

net::awaitable<std::string> mesh_client::impl::handshake(connection& conn) {
    auto& ws = conn.link->ws();
    websocket::stream_base::timeout timeouts{};
    timeouts.handshake_timeout = opts.connect_timeout;
    timeouts.idle_timeout = opts.idle_timeout;
    timeouts.keep_alive_pings = true;
    ws.set_option(timeouts);
    std::string offered(opts.json_format ? protocol::subprotocol_json : protocol::subprotocol_msgpack);
    ws.set_option(websocket::stream_base::decorator([offered, token = opts.token](websocket::request_type& req) {
        req.set(http::field::user_agent, "orbitmesh-agent");
        req.set(http::field::sec_websocket_protocol, offered);
        if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    }));
    conn.link->configure_stream();
    // A client masks what it sends, through a write buffer of this size: with Beast's default
    // (4 KiB) a 45 KB frame of results took 11 sendmsg calls. One agent has one connection, so
    // the memory is no concern.
    ws.write_buffer_bytes(client_write_buffer_bytes);
    websocket::response_type res;
    error_code ec;
    co_await ws.async_handshake(res, opts.url.host_port(), opts.url.path, with_ec(ec));
    std::string where = "the hub at " + opts.url.host_port();
    if (ec == websocket::error::upgrade_declined) {
        conn.refused_status = static_cast<int>(res.result_int());
        co_return where + " refused the connection: " + describe_refusal(res);
    }
    if (ec) co_return "WebSocket handshake with " + opts.url.host_port() + " failed: " + ec.message();
    auto chosen = to_sv(res[http::field::sec_websocket_protocol]);
    if (opts.json_format && chosen != protocol::subprotocol_json)
        co_return where + " did not accept the " + offered + " subprotocol";
    if (!chosen.empty() && chosen != offered)
        co_return where + " answered with the unknown subprotocol " + std::string(chosen);
    co_return std::string();
}

void mesh_client::impl::finish(const std::shared_ptr<connection>& conn, const std::string& reason) {
    conn->open = false;
    {
        std::lock_guard lock(mu);
        if (current == conn) current.reset();
    }
    if (conn->refused_status != 0 && conn->cb.on_refused && !abandoned) conn->cb.on_refused(conn->refused_status);
    if (conn->cb.on_closed && !abandoned) conn->cb.on_closed(reason);
}

mesh_client::mesh_client(boost::asio::io_context& io, options opts)
    : impl_(std::make_shared<impl>(io, std::move(opts))) {}

mesh_client::~mesh_client() {
    impl_->abandoned = true;
    if (auto conn = impl_->current_connection())
        net::post(impl_->strand, [conn] {
            conn->resolver.cancel();
            conn->link->drop();
        });
}

void mesh_client::connect(callbacks cb) {
    auto conn = std::make_shared<connection>(impl_->link_opts(), impl_->strand, std::move(cb));
    {
        std::lock_guard lock(impl_->mu);
        impl_->current = conn;
    }
    net::co_spawn(impl_->strand, [self = impl_, conn] { return self->run(conn); }, net::detached);
}

void mesh_client::send(const core::json& msg) {
    auto conn = impl_->current_connection();
    if (conn && conn->open) conn->link->send(msg);
}

void mesh_client::close(const std::string& reason) {
    net::post(impl_->strand, [self = impl_, reason] {
        auto conn = self->current_connection();
        if (!conn) return;
        if (conn->open) {
            conn->link->request_close(protocol::close_normal, reason);
            return;
        }
        conn->local_close = reason;  // still connecting: abort it
        conn->resolver.cancel();
        beast::get_lowest_layer(conn->link->ws()).close();
    });
}

}  // namespace orbitmesh::transport
