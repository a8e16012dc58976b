#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "transport/http_types.hpp"
#include "transport/mesh_peer.hpp"

namespace boost::asio {
class io_context;
}

namespace orbitmesh::transport {

struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 7420;             // 0 = pick a free one (see port())
    std::size_t max_frame = 16u << 20;     // bigger frames close the connection with 1009
    std::size_t max_send_queue = 8u << 20;  // bytes queued to one agent before it is dropped as slow
    std::size_t max_http_body = 64u << 20;    // bigger bodies get 413
    /// Request line + headers; bigger get 431. At most 64 KiB: Beast keeps a field in at most 65,535
    /// bytes and *throws* past that, so a larger limit would let one long header escape as an
    /// exception instead of a 431.
    std::size_t max_http_header = 64u << 10;
    std::size_t max_connections = 32768;      // open connections (HTTP and agents); past it new ones are closed at once
    /// From accept to a complete first request head (and on to a finished WebSocket handshake):
    /// a client that dawdles is dropped.
    std::chrono::milliseconds handshake_timeout = std::chrono::seconds(10);
};

/// Silences the listener's connection log lines for the process (`run --local -q`). Thread-safe.
void set_server_log_quiet(bool quiet);

/// One listener serving HTTP/1.1 and the WebSocket endpoint `/mesh` on the same port.
/// Decoding errors close only the offending connection (1003/1007/1009, with a reason).
class server {
public:
    /// `gate` (optional) sees every HTTP request's head before its body is read (http_types.hpp).
    server(boost::asio::io_context& io, server_options opts, http_handler http, mesh_handler mesh, http_gate gate = {});
    ~server();
    /// Binds (with SO_REUSEADDR so a restarted hub gets its port back at once) and starts
    /// accepting. Throws core::error{unavailable} naming the address when it cannot bind.
    void start();
    /// The bound port (after start()).
    std::uint16_t port() const;
    /// Stops accepting and closes every connection with 1001 "server shutting down". Idempotent.
    void stop();

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace orbitmesh::transport
