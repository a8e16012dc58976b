#include "transport/ws_link.hpp"

#include "core/log.hpp"

#include <cstdio>

#include "core/protocol.hpp"
#include "transport/codec.hpp"
#include "transport/tls.hpp"

namespace orbitmesh::transport {
namespace {

namespace protocol = core::protocol;

/// How long a close handshake may take before the TCP connection is simply dropped (a paused
/// or vanished peer must not hold a hub's shutdown).
constexpr auto close_grace = std::chrono::seconds(2);
/// A read buffer grown past this is given back once the connection goes quiet, so thousands of
/// idle agents do not each keep the largest frame they ever sent.
constexpr std::size_t retained_buffer_bytes = 64u << 10;
/// RFC 6455 allows 123 bytes of reason; cut at a UTF-8 boundary.
std::string fit_reason(std::string reason) {
    constexpr std::size_t max_reason = 123;
    if (reason.size() <= max_reason) return reason;
    std::size_t n = max_reason;
    while (n > 0 && (static_cast<unsigned char>(reason[n]) & 0xC0) == 0x80) --n;
    reason.resize(n);
    return reason;
}

std::string describe_peer_close(const websocket::close_reason& r, const std::string& peer_word) {
    std::string text = "closed by " + peer_word + " with " + std::to_string(r.code);
    if (!r.reason.empty()) text += ": " + std::string(r.reason.data(), r.reason.size());
    return text;
}

}  // namespace

template <class NextLayer>
void basic_ws_link<NextLayer>::configure_stream() {
    ws_.text(opts_.json_text);
    // The frame limit is enforced in read_message(), not by Beast: Beast 1.74 checks it on the
    // frame header and fails with a bare 1009 (no reason), and its teardown reads only 2 KiB
    // before closing, so a big oversized frame reaches the agent as a TCP reset, not a 1009.
    ws_.read_message_max(0);
    ws_.auto_fragment(false);  // one frame per write: the receiver reads whole messages anyway
    websocket::permessage_deflate deflate;
    deflate.client_enable = false;
    deflate.server_enable = false;
    ws_.set_option(deflate);
}

template <class NextLayer>
void basic_ws_link<NextLayer>::send(const core::json& msg) {
    switch (queue_.push(encode_message(msg, opts_.json_text))) {
    case send_queue::pushed::start_writer: start_writer(); break;
    case send_queue::pushed::overflow:
        close_now(protocol::close_policy, "send queue full: " + opts_.peer_word + " too slow");
        break;
    case send_queue::pushed::queued:
    case send_queue::pushed::closed: break;
    }
}

template <class NextLayer>
void basic_ws_link<NextLayer>::request_close(int code, std::string reason) {
    if (queue_.request_close(code, std::move(reason))) start_writer();
}

template <class NextLayer>
void basic_ws_link<NextLayer>::close_now(int code, std::string reason) {
    net::post(executor_, [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
        self->begin_close(code, std::move(reason));
    });
}

template <class NextLayer>
void basic_ws_link<NextLayer>::drop() {
    close_started_ = true;
    queue_.close();
    beast::get_lowest_layer(ws_).close();
}

template <class NextLayer>
void basic_ws_link<NextLayer>::start_writer() {
    net::co_spawn(executor_, [self = this->shared_from_this()] { return self->drain_queue(); }, net::detached);
}

template <class NextLayer>
net::awaitable<void> basic_ws_link<NextLayer>::drain_queue() {
    send_queue::batch next;
    for (;;) {
        switch (queue_.next(next)) {
        case send_queue::step::idle: co_return;
        case send_queue::step::close: begin_close(next.close_code, std::move(next.close_reason)); co_return;
        case send_queue::step::write: break;
        }
        error_code ec;
        co_await ws_.async_write(net::buffer(next.frame), with_ec(ec));
        if (ec) {
            queue_.close();  // the read side sees the same failure and reports it
            co_return;
        }
    }
}

template <class NextLayer>
void basic_ws_link<NextLayer>::begin_close(int code, std::string reason) {
    if (close_started_) return;
    close_started_ = true;
    end_reason_ = "closed with " + std::to_string(code) + ": " + reason;
    log("closing " + std::to_string(code) + ": " + reason);
    queue_.close();
    net::co_spawn(
        executor_,
        [self = this->shared_from_this(), code, reason = std::move(reason)]() mutable {
            return self->send_close(code, std::move(reason));
        },
        net::detached);
}

template <class NextLayer>
net::awaitable<void> basic_ws_link<NextLayer>::send_close(int code, std::string reason) {
    net::steady_timer guard(executor_, close_grace);
    guard.async_wait([self = this->shared_from_this()](const error_code& ec) {
        if (!ec) beast::get_lowest_layer(self->ws_).close();
    });
    error_code ec;
    websocket::close_reason why(static_cast<websocket::close_code>(code));
    why.reason = fit_reason(std::move(reason));
    co_await ws_.async_close(why, with_ec(ec));
}  // destroying the guard cancels it

template <class NextLayer>
net::awaitable<error_code> basic_ws_link<NextLayer>::read_message(beast::flat_buffer& buffer, bool& too_big) {
    error_code ec;
    do {
        // Never more than one byte past the limit: that byte is enough to know.
        std::size_t room = opts_.max_frame + 1 - buffer.size();
        co_await ws_.async_read_some(buffer, room, with_ec(ec));
        if (ec) co_return ec;
        too_big = buffer.size() > opts_.max_frame;
    } while (!too_big && !ws_.is_message_done());
    co_return ec;
}

template <class NextLayer>
net::awaitable<std::string> basic_ws_link<NextLayer>::read_frames(const std::function<void(core::json)>& deliver) {
    beast::flat_buffer buffer;
    for (;;) {
        bool too_big = false;
        error_code ec = co_await read_message(buffer, too_big);
        if (close_started_) break;
        if (ec) {
            end_reason_ = describe_end(ec);
            break;
        }
        if (too_big) {
            begin_close(protocol::close_too_big,
                        "frame larger than the " + std::to_string(opts_.max_frame) + "-byte limit");
            break;
        }
        if (!deliver_frame(buffer, deliver)) break;
        buffer.consume(buffer.size());
        if (buffer.capacity() > retained_buffer_bytes && !more_data_waiting()) buffer = beast::flat_buffer();
    }
    queue_.close();
    co_return end_reason_;
}

template <class NextLayer>
bool basic_ws_link<NextLayer>::deliver_frame(const beast::flat_buffer& buffer, const std::function<void(core::json)>& deliver) {
    if (!opts_.json_text && ws_.got_text()) {
        begin_close(protocol::close_unsupported, "text frame on an orbitmesh.msgpack connection");
        return false;
    }
    auto data = buffer.data();
    std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    try {
        for (auto& msg : decode_frame(bytes, opts_.json_text)) {
            deliver(std::move(msg));
            if (close_started_) return false;
        }
    } catch (const frame_error& e) {
        begin_close(e.close_code, e.what());
        return false;
    } catch (const std::exception& e) {  // a handler bug must not take the process down
        begin_close(close_internal_error, std::string("internal error handling a message: ") + e.what());
        return false;
    }
    return true;
}

template <class NextLayer>
bool basic_ws_link<NextLayer>::more_data_waiting() {
    error_code ec;
    return beast::get_lowest_layer(ws_).socket().available(ec) > 0 && !ec;
}

template <class NextLayer>
std::string basic_ws_link<NextLayer>::describe_end(const error_code& ec) {
    if (ec == websocket::error::closed) {
        auto text = describe_peer_close(ws_.reason(), opts_.peer_word);
        log(text);
        return text;
    }
    std::string text = ec == beast::error::timeout
                           ? "timed out: no data or pong from the " + opts_.peer_word + " in time"
                           : "connection lost: " + ec.message();
    log(text);
    return text;
}

template <class NextLayer>
void basic_ws_link<NextLayer>::log(const std::string& line) const {
    if (!opts_.log_closes) return;
    core::log::write("", core::log::level::info, "ws " + opts_.remote + ": " + line);
}

template class basic_ws_link<beast::tcp_stream>;
template class basic_ws_link<tls_stream>;

}  // namespace orbitmesh::transport
