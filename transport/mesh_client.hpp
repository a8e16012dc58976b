#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "core/json.hpp"
#include "core/url.hpp"

namespace boost::asio {
class io_context;
}

namespace orbitmesh::transport {

/// The agent side of `/mesh`: one WebSocket connection at a time (reconnecting is the caller's
/// business). All callbacks run on the io_context, one at a time, in order.
class mesh_client {
public:
    struct options {
        core::server_url url;  // path defaults to /mesh
        bool json_format = false;  // subprotocol orbitmesh.json instead of orbitmesh.msgpack
        std::string token;         // sent as Authorization: Bearer
        std::size_t max_frame = 16u << 20;
        /// Bound for resolve, connect and the handshake each.
        std::chrono::milliseconds connect_timeout = std::chrono::seconds(10);
        /// With nothing heard from the hub for half of this a ping goes out; with nothing for all
        /// of it the connection is dropped (a half-open connection is noticed).
        std::chrono::milliseconds idle_timeout = std::chrono::seconds(20);
        /// Bytes queued for the hub before the connection is closed (1008) as hopelessly behind.
        std::size_t max_send_queue = 64u << 20;
    };
    struct callbacks {
        std::function<void()> on_connected;  // handshake done; send hello now
        std::function<void(core::json msg)> on_message;
        /// Called exactly once per connect() that did not end in on_connected, or after it when the
        /// connection ends; `reason` says why (connect refused, close code and text, ...).
        std::function<void(const std::string& reason)> on_closed;
        /// Optional: the hub answered the upgrade with an HTTP error instead of switching
        /// protocols (401 bad token, 403 wrong role, 429 too many failures). Called with that status
        /// just before on_closed, whose reason carries the hub's message.
        std::function<void(int status)> on_refused = {};
    };

    mesh_client(boost::asio::io_context& io, options opts);
    ~mesh_client();
    /// Starts connecting. Call again only after on_closed.
    void connect(callbacks cb);
    /// Queues a message; dropped silently when not connected. Thread-safe.
    void send(const core::json& msg);
    /// Closes with 1000 and `reason`. Thread-safe.
    void close(const std::string& reason);

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace orbitmesh::transport
