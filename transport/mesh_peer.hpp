#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/json.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::transport {

/// One agent's WebSocket connection on the hub. Thread-safe; outlives its socket safely.
class mesh_peer {
public:
    virtual ~mesh_peer() = default;
    /// Queues a message (encoded in the connection's format). Messages queued together may be
    /// coalesced into one frame. Past the send-queue bound the connection is closed (slow agent).
    virtual void send(core::json msg) = 0;
    /// Sends a close frame with code and reason, then drops the connection.
    virtual void close(int code, std::string reason) = 0;
    virtual std::string remote_address() const = 0;
    /// Unique per connection within the process.
    virtual std::uint64_t id() const = 0;
    /// The HTTP upgrade request that opened the connection (headers, query, remote; no body),
    /// e.g. to read the token again in on_open. Empty for peers that have none (test fakes).
    virtual const http_request& upgrade_request() const {
        static const http_request none;
        return none;
    }
};

/// Callbacks from the server for agent connections. For one peer they are called in order and
/// never concurrently; different peers may call concurrently.
struct mesh_handler {
    std::function<void(const std::shared_ptr<mesh_peer>&)> on_open;
    /// One decoded message (a map with a string `t`); a frame holding an array gives one call each.
    std::function<void(const std::shared_ptr<mesh_peer>&, core::json msg)> on_message;
    /// The connection is gone (closed by either side, errored, or timed out). Called exactly once.
    std::function<void(const std::shared_ptr<mesh_peer>&, const std::string& reason)> on_close;
    /// Optional: decides on an upgrade request to `/mesh` before the handshake (auth). Return a
    /// response (e.g. 401 with a JSON error) to refuse it, std::nullopt to accept; what it leaves
    /// in the request's `context` stays with the peer (upgrade_request()). Runs on the
    /// connection's strand; may be called concurrently for different connections.
    std::function<std::optional<http_response>(http_request&)> on_upgrade;
};

}  // namespace orbitmesh::transport
