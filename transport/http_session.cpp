#include "transport/http_session.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>

#include "core/error.hpp"
#include "core/protocol.hpp"
#include "transport/http_target.hpp"
#include "transport/tls.hpp"
#include "transport/ws_session.hpp"

namespace orbitmesh::transport {
namespace {

namespace protocol = core::protocol;

/// A keep-alive connection with no request for this long is closed.
constexpr auto idle_timeout = std::chrono::seconds(30);
constexpr auto write_timeout = std::chrono::seconds(30);
/// After its head, a request's body must be in within this.
constexpr auto body_timeout = std::chrono::seconds(60);
/// SO_SNDBUF of a streaming response (the kernel doubles it).
constexpr int stream_send_buffer = 128 << 10;

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

/// The request's head as the engine sees it (the body is added once read).
http_request to_request(const http::request<http::string_body>& req, const peer_info& peer) {
    http_request r;
    r.method = std::string(req.method_string());
    split_target(to_sv(req.target()), r.path, r.query);
    for (const auto& field : req) {
        std::string value(field.value());
        auto [it, inserted] = r.headers.emplace(lower(to_sv(field.name_string())), value);
        if (!inserted) it->second += ", " + value;
    }
    r.remote = peer.remote;
    r.tls = peer.tls;
    r.tls_subject = peer.tls_subject;
    return r;
}

bool header_safe(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

http::response<http::string_body> to_beast(http_response resp, unsigned version, bool keep_alive) {
    http::response<http::string_body> res;
    res.version(version);
    res.result(static_cast<unsigned>(resp.status));
    res.set(http::field::server, "orbitmesh");
    if (!resp.content_type.empty()) res.set(http::field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers)
        if (header_safe(name) && header_safe(value)) res.insert(name, value);
    res.body() = std::move(resp.body);
    res.keep_alive(keep_alive);
    res.prepare_payload();
    return res;
}

http_response error_response(int status, core::error_kind kind, const std::string& message) {
    http_response r;
    r.status = status;
    r.body = core::json{{"error", core::to_string(kind)}, {"message", message}}.dump();
    return r;
}

/// The client's first supported subprotocol; msgpack (answered with no header) when it offers none.
std::string choose_subprotocol(std::string_view offered, bool& json_text) {
    json_text = false;
    while (!offered.empty()) {
        auto comma = offered.find(',');
        std::string_view token = offered.substr(0, comma);
        offered = comma == std::string_view::npos ? std::string_view{} : offered.substr(comma + 1);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t')) token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t')) token.remove_suffix(1);
        if (token == protocol::subprotocol_msgpack) return std::string(token);
        if (token == protocol::subprotocol_json) {
            json_text = true;
            return std::string(token);
        }
    }
    return {};
}

bool is_parse_error(const error_code& ec) {
    return ec.category() == http::make_error_code(http::error::bad_target).category() &&
           ec != http::error::end_of_stream && ec != http::error::partial_message;
}

}  // namespace

template <class Stream>
http_session<Stream>::http_session(std::shared_ptr<server_context> ctx, Stream stream, std::uint64_t id,
                                   peer_info peer)
    : ctx_(std::move(ctx)), stream_(std::move(stream)), executor_(stream_.get_executor()), id_(id),
      peer_(std::move(peer)) {}

template <class Stream>
void http_session<Stream>::start() {
    net::co_spawn(executor_, [self = this->shared_from_this()] { return self->read_request(); }, net::detached);
}

template <class Stream>
void http_session<Stream>::shut_down() {
    net::post(executor_, [self = this->shared_from_this()] {
        // A request being handled or answered ends on its own: stopping turns keep-alive off.
        // An open stream never ends on its own.
        if (self->reading_ || self->streaming_) self->finish();
    });
}

template <class Stream>
net::awaitable<void> http_session<Stream>::read_request() {
    // stop() may have found this connection between a reply and its next read (reading_ false):
    // it must not start another.
    if (ctx_->stopping()) {
        finish();
        co_return;
    }
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(std::min<std::size_t>(ctx_->opts.max_http_header, 64u << 10)));
    parser.body_limit(ctx_->opts.max_http_body);
    // The first request of a connection must arrive within the handshake deadline; later ones may
    // idle for keep-alive's sake.
    beast::get_lowest_layer(stream_).expires_after(first_request_ ? std::chrono::duration_cast<std::chrono::steady_clock::duration>(ctx_->opts.handshake_timeout)
                                         : std::chrono::steady_clock::duration(idle_timeout));
    error_code ec;
    reading_ = true;
    co_await http::async_read_header(stream_, buffer_, parser, with_ec(ec));
    reading_ = false;
    if (finished_) co_return;
    if (ec) co_return co_await answer_read_error(ec);
    first_request_ = false;
    if (websocket::is_upgrade(parser.get())) {
        if (!parser.is_done()) {
            auto msg = "a WebSocket upgrade request must not have a body";
            co_return co_await write_response(to_beast(error_response(400, core::error_kind::invalid_input, msg), 11, false));
        }
        co_return co_await upgrade(parser.release());
    }
    http_request request = to_request(parser.get(), peer_);
    const unsigned version = parser.get().version();
    if (auto refusal = check_gate(request))
        co_return co_await write_response(to_beast(std::move(*refusal), version, false));  // body unread: close after
    beast::get_lowest_layer(stream_).expires_after(body_timeout);
    reading_ = true;
    if (!parser.is_done()) co_await http::async_read(stream_, buffer_, parser, with_ec(ec));
    reading_ = false;
    if (finished_) co_return;
    if (ec) co_return co_await answer_read_error(ec);
    request.body = std::move(parser.get().body());
    dispatch(std::move(request), version, parser.get().keep_alive());
}

template <class Stream>
net::awaitable<void> http_session<Stream>::answer_read_error(const error_code& ec) {
    std::optional<http_response> answer;
    if (ec == http::error::header_limit)
        answer = error_response(431, core::error_kind::invalid_input,
                                "request headers larger than " + std::to_string(ctx_->opts.max_http_header) + " bytes");
    else if (ec == http::error::body_limit)
        answer = error_response(413, core::error_kind::invalid_input,
                                "request body larger than " + std::to_string(ctx_->opts.max_http_body) + " bytes");
    else if (is_parse_error(ec))
        answer = error_response(400, core::error_kind::invalid_input, "malformed HTTP request: " + ec.message());
    if (!answer) {
        finish();  // closed, reset or idle past the timeout: nothing to answer
        co_return;
    }
    co_await write_response(to_beast(std::move(*answer), 11, false));
}

template <class Stream>
std::optional<http_response> http_session<Stream>::check_gate(http_request& head) {
    if (!ctx_->gate) return std::nullopt;
    try {
        return ctx_->gate(head);
    } catch (const std::exception& e) {
        return error_response(500, core::error_kind::internal, std::string("request check failed: ") + e.what());
    }
}

template <class Stream>
void http_session<Stream>::dispatch(http_request req, unsigned version, bool keep_alive) {
    auto reply = make_reply(version, keep_alive);
    if (!ctx_->http) {
        reply(error_response(404, core::error_kind::not_found, "no HTTP handler"));
        return;
    }
    try {
        ctx_->http(std::move(req), reply);
    } catch (const std::exception& e) {  // ignored by the once-guard when the handler already replied
        reply(error_response(500, core::error_kind::internal, std::string("request handler failed: ") + e.what()));
    }
}

template <class Stream>
http_reply http_session<Stream>::make_reply(unsigned version, bool keep_alive) {
    auto used = std::make_shared<std::atomic<bool>>(false);
    return [self = this->shared_from_this(), used, version, keep_alive](http_response resp) {
        if (used->exchange(true)) return;  // exactly once, whoever calls
        if (resp.stream) {
            net::co_spawn(
                self->executor_,
                [self, resp = std::move(resp), version]() mutable { return self->serve_stream(std::move(resp), version); },
                net::detached);
            return;
        }
        auto res = to_beast(std::move(resp), version, keep_alive);
        net::co_spawn(
            self->executor_,
            [self, res = std::move(res)]() mutable { return self->write_response(std::move(res)); },
            net::detached);
    };
}

template <class Stream>
net::awaitable<void> http_session<Stream>::write_response(http::response<http::string_body> res) {
    if (finished_) co_return;
    if (ctx_->stopping()) res.keep_alive(false);
    bool keep_alive = res.keep_alive();
    beast::get_lowest_layer(stream_).expires_after(write_timeout);
    error_code ec;
    co_await http::async_write(stream_, res, with_ec(ec));
    if (ec || !keep_alive) {
        finish();
        co_return;
    }
    co_await read_request();
}

template <class Stream>
net::awaitable<void> http_session<Stream>::upgrade(http::request<http::string_body> req) {
    http_request info = to_request(req, peer_);
    std::optional<http_response> refusal;
    if (info.path != "/mesh") {
        refusal = error_response(404, core::error_kind::not_found, "no WebSocket endpoint at " + info.path + " (use /mesh)");
    } else if (ctx_->stopping()) {
        refusal = error_response(503, core::error_kind::unavailable, "server shutting down");
    } else if (ctx_->mesh.on_upgrade) {
        try {
            refusal = ctx_->mesh.on_upgrade(info);
        } catch (const std::exception& e) {
            refusal = error_response(500, core::error_kind::internal, std::string("upgrade check failed: ") + e.what());
        }
    }
    if (refusal) {
        co_await write_response(to_beast(std::move(*refusal), req.version(), false));
        co_return;
    }
    bool json_text = false;
    std::string subprotocol = choose_subprotocol(to_sv(req[http::field::sec_websocket_protocol]), json_text);
    upgraded_ = true;
    auto ws = std::make_shared<ws_session<Stream>>(ctx_, std::move(stream_), id_, std::move(info), json_text);
    // A task of its own, so this object (and its read buffer) can go now.
    net::co_spawn(
        executor_,
        [ws, req = std::move(req), subprotocol = std::move(subprotocol)]() mutable {
            return ws->serve_agent(std::move(req), std::move(subprotocol));
        },
        net::detached);
}

/// The open body handed to the engine: it holds the session only weakly, so a stream the engine
/// keeps after the client left costs nothing but this object.
template <class Stream>
class http_session<Stream>::stream_body final : public http_stream {
public:
    explicit stream_body(std::weak_ptr<http_session> s, net::any_io_executor ex) : session_(std::move(s)), executor_(std::move(ex)) {}
    void write(std::string piece, std::int64_t write_timeout_ms, std::function<void(bool)> done) override {
        net::post(executor_, [weak = session_, piece = std::move(piece), write_timeout_ms, done = std::move(done)]() mutable {
            auto self = weak.lock();
            if (!self) return done(false);
            self->write_stream(std::move(piece), write_timeout_ms, std::move(done));
        });
    }
    void close() override {
        net::post(executor_, [weak = session_] {
            if (auto self = weak.lock()) self->finish();
        });
    }

private:
    std::weak_ptr<http_session> session_;
    net::any_io_executor executor_;
};

template <class Stream>
net::awaitable<void> http_session<Stream>::serve_stream(http_response resp, unsigned version) {
    stream_closed_ = std::move(resp.closed);
    if (finished_) {
        finish();  // runs `closed`
        co_return;
    }
    streaming_ = true;
    http::response<http::empty_body> head;
    head.version(version);
    head.result(static_cast<unsigned>(resp.status));
    head.set(http::field::server, "orbitmesh");
    if (!resp.content_type.empty()) head.set(http::field::content_type, resp.content_type);
    for (const auto& [name, value] : resp.headers)
        if (header_safe(name) && header_safe(value)) head.insert(name, value);
    head.keep_alive(false);  // the body ends when the connection does
    beast::get_lowest_layer(stream_).expires_after(write_timeout);
    error_code ec;
    co_await http::async_write(stream_, head, with_ec(ec));
    if (!ec && !resp.body.empty()) co_await net::async_write(stream_, net::buffer(resp.body), with_ec(ec));
    if (finished_) co_return;
    if (ec) {
        finish();
        co_return;
    }
    beast::get_lowest_layer(stream_).expires_never();
    // A fixed, modest kernel buffer: what a client has not read yet stays bounded, so one that
    // stops reading stalls our next write (and is dropped by its timeout) instead of soaking up
    // megabytes of auto-tuned socket memory.
    beast::get_lowest_layer(stream_).socket().set_option(net::socket_base::send_buffer_size(stream_send_buffer), ec);
    // A read that only ever ends: it tells us at once when the client goes away.
    net::co_spawn(executor_, [self = this->shared_from_this()] { return self->watch_stream_close(); }, net::detached);
    if (resp.stream) resp.stream(std::make_shared<stream_body>(this->weak_from_this(), executor_));
}

template <class Stream>
net::awaitable<void> http_session<Stream>::watch_stream_close() {
    std::array<char, 512> sink{};
    error_code ec;
    while (!finished_ && !ec) co_await stream_.async_read_some(net::buffer(sink), with_ec(ec));
    finish();
}

template <class Stream>
void http_session<Stream>::write_stream(std::string piece, std::int64_t timeout_ms, std::function<void(bool)> done) {
    if (finished_ || !streaming_ || piece_pending_) return done(false);
    piece_pending_ = true;
    net::co_spawn(
        executor_,
        [self = this->shared_from_this(), piece = std::move(piece), timeout_ms, done = std::move(done)]() mutable {
            return self->write_piece(std::move(piece), timeout_ms, std::move(done));
        },
        net::detached);
}

template <class Stream>
net::awaitable<void> http_session<Stream>::write_piece(std::string piece, std::int64_t timeout_ms,
                                                        std::function<void(bool)> done) {
    beast::get_lowest_layer(stream_).expires_after(std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 1)));
    error_code ec;
    co_await net::async_write(stream_, net::buffer(piece), with_ec(ec));
    piece_pending_ = false;
    if (!finished_) beast::get_lowest_layer(stream_).expires_never();
    if (ec) finish();
    done(!ec && !finished_);
}

template <class Stream>
void http_session<Stream>::finish() {
    if (auto closed = std::move(stream_closed_)) {
        stream_closed_ = nullptr;
        closed();
    }
    if (finished_ || upgraded_) return;
    finished_ = true;
    ctx_->remove(id_);
    error_code ec;
    auto& tcp_layer = beast::get_lowest_layer(stream_);
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ec);
    tcp_layer.close();
}

template class http_session<beast::tcp_stream>;
template class http_session<tls_stream>;

}  // namespace orbitmesh::transport
