#pragma once
#include <atomic>
#include <cstdint>
#include <vector>
#include <functional>
#include <memory>
#include <string>

#include "core/json.hpp"
#include "engine/agent/reconnect_backoff.hpp"
#include "transport/mesh_client.hpp"

namespace orbitmesh::engine::agent {

/// Keeps one WebSocket to the hub up: connects, sends hello, waits for welcome, sends heartbeats,
/// and after any loss reconnects with decorrelated jitter (one log line per failed attempt).
/// Given more hubs (several `--server`s), each retry dials the next one in turn, so a dead hub's
/// agents move to a live one. Lives on the io thread; send() is thread-safe.
class hub_connection {
public:
    struct callbacks {
        std::function<core::json()> hello;
        std::function<core::json()> heartbeat;
        std::function<void()> on_welcome;  // after the first heartbeat went out
        std::function<void(core::json)> on_message;
        /// The hub turned our credential away (HTTP 401 or 403 on the upgrade): retrying with the
        /// same token cannot help, so the connection stops for good and says why, once.
        std::function<void(const std::string& reason)> on_rejected = {};
    };
    /// A hub that accepted the socket must say welcome within this time, or we try again.
    static constexpr std::int64_t welcome_timeout_ms = 10'000;

    hub_connection(boost::asio::io_context& io, transport::mesh_client::options opts,
                   reconnect_backoff backoff, callbacks cb, const std::vector<core::server_url>& more = {});
    ~hub_connection();

    void start();
    /// Queues a message; dropped when not connected (results come back from the outbox).
    void send(const core::json& m) { clients_[current_.load(std::memory_order_acquire)]->send(m); }
    /// Closes for good: no reconnect afterwards.
    void stop(const std::string& reason);
    bool welcomed() const { return welcomed_; }
    /// No connection open or being opened (after stop(): the close has completed).
    bool idle() const { return !in_flight_; }
    /// Where we dial, for log lines: `ws://HOST:PORT/mesh`.
    const std::string& where() const { return wheres_[current_.load(std::memory_order_acquire)]; }

private:
    struct timers;
    void connect();
    void on_connected();
    void on_message(core::json m);
    void on_welcome(const core::json& m);
    void on_closed(const std::string& reason);
    void schedule_heartbeat();

    transport::mesh_client& client() { return *clients_[current_.load(std::memory_order_relaxed)]; }

    std::vector<std::unique_ptr<transport::mesh_client>> clients_;  // one per hub, in --server order
    std::vector<std::string> wheres_;
    std::atomic<std::size_t> current_{0};  // the hub dialled now; changes on the io thread only
    reconnect_backoff backoff_;
    callbacks cb_;
    std::unique_ptr<timers> timers_;
    std::int64_t heartbeat_ms_ = 5000;
    bool in_flight_ = false;  // between connect() and on_closed
    bool connected_ = false;
    bool welcomed_ = false;
    bool stopping_ = false;
    int refused_status_ = 0;  // HTTP status of the last declined upgrade
    std::uint64_t epoch_ = 0;  // bumps per connection so stale timer callbacks do nothing
};

}  // namespace orbitmesh::engine::agent
