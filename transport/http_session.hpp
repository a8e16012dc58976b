#pragma once
// Private to transport/: one HTTP/1.1 connection on the hub's listener.
#include <memory>
#include <optional>
#include <string>

#include "transport/beast.hpp"
#include "transport/server_context.hpp"

namespace orbitmesh::transport {

/// What the transport knows about who is at the other end of a connection.
struct peer_info {
    std::string remote;       // "127.0.0.1:51234"
    bool tls = false;
    std::string tls_subject;  // CN of a verified client certificate, or empty
};

/// Serves requests one at a time (keep-alive) and hands `/mesh` upgrades to a ws_session.
/// Everything runs on the connection's strand; replies may come from any thread. `Stream` is
/// `beast::tcp_stream` or `tls_stream` after its handshake (both instantiated in the .cpp).
template <class Stream>
class http_session final : public closable, public std::enable_shared_from_this<http_session<Stream>> {
public:
    http_session(std::shared_ptr<server_context> ctx, Stream stream, std::uint64_t id, peer_info peer);

    /// Starts reading the first request.
    void start();
    void shut_down() override;

private:
    net::awaitable<void> read_request();
    net::awaitable<void> write_response(http::response<http::string_body> res);
    net::awaitable<void> answer_read_error(const error_code& ec);
    std::optional<http_response> check_gate(http_request& head);
    net::awaitable<void> upgrade(http::request<http::string_body> req);
    void dispatch(http_request req, unsigned version, bool keep_alive);
    http_reply make_reply(unsigned version, bool keep_alive);
    void finish();
    // Streaming responses (http_response::stream): the head, then pieces until either side closes.
    net::awaitable<void> serve_stream(http_response resp, unsigned version);
    net::awaitable<void> watch_stream_close();
    net::awaitable<void> write_piece(std::string piece, std::int64_t timeout_ms, std::function<void(bool)> done);
    void write_stream(std::string piece, std::int64_t timeout_ms, std::function<void(bool)> done);
    class stream_body;

    std::shared_ptr<server_context> ctx_;
    Stream stream_;
    net::any_io_executor executor_;
    beast::flat_buffer buffer_;
    std::uint64_t id_;
    peer_info peer_;
    bool reading_ = false;   // strand only: a read is pending (safe to cut on stop)
    bool first_request_ = true;  // strand only: the handshake deadline applies
    bool upgraded_ = false;  // strand only: stream_ now belongs to a ws_session
    bool finished_ = false;  // strand only
    bool streaming_ = false;     // strand only: the response is an open stream
    bool piece_pending_ = false;  // strand only: a stream write is in flight
    std::function<void()> stream_closed_;  // strand only: run once when the stream ends
};

}  // namespace orbitmesh::transport
