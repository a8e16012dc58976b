#pragma once
// Private to transport/: one WebSocket with a single writer, shared by the hub's agent sessions
// and the agent's mesh_client.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/json.hpp"
#include "transport/beast.hpp"
#include "transport/send_queue.hpp"

namespace orbitmesh::transport {

/// WebSocket close code 1011: the server met an unexpected condition handling a message.
constexpr int close_internal_error = 1011;

struct link_options {
    bool json_text = false;          // orbitmesh.json: text frames holding JSON
    std::size_t max_frame = 16u << 20;
    std::size_t max_send_queue = 8u << 20;
    std::string remote;              // "127.0.0.1:51234", for reasons and logs
    std::string peer_word = "agent";  // who is at the other end: "closed by agent: ..."
    bool log_closes = false;         // one stderr line per close (the hub does, the agent's caller logs)
};

/// A WebSocket stream plus its outgoing queue. Everything touching the stream runs on the
/// stream's strand; send(), request_close() and close_now() are thread-safe. `NextLayer` is
/// `beast::tcp_stream` (ws://) or `tls_stream` (wss://); both are instantiated in ws_link.cpp.
template <class NextLayer>
class basic_ws_link : public std::enable_shared_from_this<basic_ws_link<NextLayer>> {
public:
    using stream_type = websocket::stream<NextLayer>;

    /// `args` construct the next layer (an accepted stream, or an executor [and TLS context]
    /// for a client).
    template <class... Args>
    explicit basic_ws_link(link_options opts, Args&&... args)
        : opts_(std::move(opts)), ws_(std::forward<Args>(args)...), executor_(ws_.get_executor()),
          queue_(opts_.max_send_queue, opts_.json_text) {}

    /// The stream, for the handshake only (on the strand).
    stream_type& ws() { return ws_; }
    const net::any_io_executor& executor() const { return executor_; }
    const link_options& options() const { return opts_; }

    /// Frame mode and size limit; call before the handshake.
    void configure_stream();

    /// Queues one message; may be coalesced with others queued meanwhile. Past the queue bound
    /// the connection closes with 1008. Dropped silently once closing. Thread-safe.
    void send(const core::json& msg);
    /// Closes with `code` after everything queued so far has been written. Thread-safe.
    void request_close(int code, std::string reason);
    /// Closes with `code` now, dropping what is queued. Thread-safe.
    void close_now(int code, std::string reason);
    /// Drops the TCP connection without a close frame (handshake failures, abandonment).
    /// On the strand.
    void drop();

    /// Reads frames and hands every decoded message to `deliver`, in order, until the connection
    /// ends; returns why it ended (one line). On the strand; call once.
    net::awaitable<std::string> read_frames(const std::function<void(core::json)>& deliver);

private:
    void begin_close(int code, std::string reason);
    net::awaitable<void> send_close(int code, std::string reason);
    net::awaitable<void> drain_queue();
    void start_writer();
    net::awaitable<error_code> read_message(beast::flat_buffer& buffer, bool& too_big);
    std::string describe_end(const error_code& ec);
    bool more_data_waiting();
    bool deliver_frame(const beast::flat_buffer& buffer, const std::function<void(core::json)>& deliver);
    void log(const std::string& line) const;

    link_options opts_;
    stream_type ws_;
    net::any_io_executor executor_;
    send_queue queue_;
    bool close_started_ = false;  // strand only
    std::string end_reason_;      // strand only: why we closed
};

using ws_link = basic_ws_link<beast::tcp_stream>;

}  // namespace orbitmesh::transport
