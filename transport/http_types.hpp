#pragma once
#include <any>
#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace orbitmesh::transport {

/// A parsed HTTP request as the engine sees it (no Beast types cross this line).
struct http_request {
    std::string method;                        // "GET", "POST", ...
    std::string path;                          // "/api/v1/jobs/ID" (percent-decoded, no query)
    std::map<std::string, std::string> query;  // decoded query parameters
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string remote;  // "127.0.0.1:51234"
    /// What the engine's gate (http_gate, mesh_handler::on_upgrade) decided about this request — the
    /// authenticated principal — carried to the handler and to mesh_peer::upgrade_request().
    std::any context;
    bool tls = false;    // arrived over TLS (https://, wss://)
    /// The CN of the client certificate the TLS handshake verified against `serve --client-ca`;
    /// empty without one. Who the peer is, as far as the transport can tell.
    std::string tls_subject;
};

/// The open body of a streaming response (server-sent events): pieces are written as they come
/// until either side closes. Thread-safe; the connection's strand does the writing.
class http_stream {
public:
    virtual ~http_stream() = default;
    /// Writes `piece`; `done(true)` runs once it is out, `done(false)` when the connection is
    /// gone or the write took longer than `write_timeout_ms`. One write at a time: a second
    /// call before the first's `done` is refused with done(false) (the caller holds the queue,
    /// so a slow reader never grows the process).
    virtual void write(std::string piece, std::int64_t write_timeout_ms, std::function<void(bool)> done) = 0;
    /// Ends the response and closes the connection. Idempotent.
    virtual void close() = 0;
};

struct http_response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
    /// When set, `body` is written first and the connection then stays open for more: `stream`
    /// gets the open body once the head is out, and `closed` runs once (from any thread) when the
    /// connection ends, whoever ended it. No Content-Length; `Connection: close`.
    // Initialized here so `http_response{status, type, body, headers}` stays warning-free.
    std::function<void(std::shared_ptr<http_stream>)> stream = nullptr;
    std::function<void()> closed = nullptr;
};

/// Sends the response; call exactly once, from any thread. Safe to call after the client left.
using http_reply = std::function<void(http_response)>;
/// Handles one request; may reply later (after a commit, when a job ends).
using http_handler = std::function<void(http_request, http_reply)>;
/// Sees a request's head (method, path, query, headers, remote; the body not read yet) and either
/// refuses it — the response is sent and the connection closed without reading the body — or
/// lets it through, possibly leaving a `context` for the handler. Runs on the connection's strand;
/// may run concurrently for different connections.
using http_gate = std::function<std::optional<http_response>(http_request& head)>;

}  // namespace orbitmesh::transport
