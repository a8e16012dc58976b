#include "transport/ws_session.hpp"

#include "core/log.hpp"

#include <cstdio>

#include "core/protocol.hpp"
#include "transport/tls.hpp"

namespace orbitmesh::transport {
namespace {

namespace protocol = core::protocol;
link_options link_options_for(const server_options& o, const std::string& remote, bool json_text) {
    link_options l;
    l.json_text = json_text;
    l.max_frame = o.max_frame;
    l.max_send_queue = o.max_send_queue;
    l.remote = remote;
    l.peer_word = "agent";
    l.log_closes = true;
    return l;
}

void log_session_line(const std::string& text) { core::log::write("", core::log::level::info, text); }

}  // namespace

template <class Stream>
ws_session<Stream>::ws_session(std::shared_ptr<server_context> ctx, Stream stream, std::uint64_t id,
                               http_request upgrade, bool json_text)
    : ctx_(std::move(ctx)), id_(id), upgrade_(std::move(upgrade)),
      link_(std::make_shared<basic_ws_link<Stream>>(link_options_for(ctx_->opts, upgrade_.remote, json_text),
                                                    std::move(stream))) {}

template <class Stream>
net::awaitable<void> ws_session<Stream>::serve_agent(http::request<http::string_body> req, std::string subprotocol) {
    auto self = this->shared_from_this();
    if (!co_await accept_upgrade(std::move(req), subprotocol)) {
        ctx_->remove(id_);
        co_return;
    }
    if (!ctx_->add(id_, this->weak_from_this())) {  // stop() ran during the handshake
        link_->close_now(protocol::close_going_away, "server shutting down");
        co_return;
    }
    notify_open();
    std::string reason = co_await link_->read_frames([this, &self](core::json msg) {
        if (ctx_->mesh.on_message) ctx_->mesh.on_message(self, std::move(msg));
    });
    ctx_->remove(id_);
    notify_close(reason);
}

template <class Stream>
net::awaitable<bool> ws_session<Stream>::accept_upgrade(http::request<http::string_body> req, const std::string& subprotocol) {
    auto& ws = link_->ws();
    beast::get_lowest_layer(ws).expires_never();  // the websocket timeouts take over
    // Beast's idle timer re-arms on every frame read: with 10,000 agents that is an extra handler
    // and a thread wake-up per heartbeat (idle hub CPU 6-7 % -> 5 % without it). The hub already
    // closes a connection with no hello within 10 s and an agent that misses 3 heartbeats.
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.idle_timeout = websocket::stream_base::none();
    timeouts.handshake_timeout = std::chrono::duration_cast<std::chrono::steady_clock::duration>(ctx_->opts.handshake_timeout);
    ws.set_option(timeouts);
    ws.set_option(websocket::stream_base::decorator([subprotocol](websocket::response_type& res) {
        res.set(http::field::server, "orbitmesh");
        if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    link_->configure_stream();
    error_code ec;
    co_await ws.async_accept(req, with_ec(ec));
    co_return !ec;
}

template <class Stream>
void ws_session<Stream>::notify_open() {
    if (!ctx_->mesh.on_open) return;
    try {
        ctx_->mesh.on_open(this->shared_from_this());
    } catch (const std::exception& e) {
        link_->close_now(close_internal_error, std::string("internal error opening the session: ") + e.what());
    }
}

template <class Stream>
void ws_session<Stream>::notify_close(const std::string& reason) {
    if (!ctx_->mesh.on_close) return;
    try {
        ctx_->mesh.on_close(this->shared_from_this(), reason);
    } catch (const std::exception& e) {
        log_session_line("ws " + upgrade_.remote + ": on_close failed: " + e.what());
    }
}

template <class Stream>
void ws_session<Stream>::send(core::json msg) { link_->send(msg); }

template <class Stream>
void ws_session<Stream>::close(int code, std::string reason) { link_->request_close(code, std::move(reason)); }

template <class Stream>
void ws_session<Stream>::shut_down() { link_->close_now(protocol::close_going_away, "server shutting down"); }

template class ws_session<beast::tcp_stream>;
template class ws_session<tls_stream>;

}  // namespace orbitmesh::transport
