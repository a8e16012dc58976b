#pragma once
// Private to transport/: what the listener and its sessions share.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "transport/server.hpp"

namespace boost::asio::ssl {
class context;
}

namespace orbitmesh::transport {

/// A live connection the server can ask to go away (stop()).
class closable {
public:
    virtual ~closable() = default;
    /// Closes the connection soon (WebSocket: 1001). Thread-safe, idempotent.
    virtual void shut_down() = 0;
};

/// Options, handlers and the registry of live sessions. Thread-safe.
class server_context {
public:
    server_context(server_options o, http_handler h, mesh_handler m, std::shared_ptr<boost::asio::ssl::context> t)
        : opts(std::move(o)), http(std::move(h)), mesh(std::move(m)), tls(std::move(t)) {}

    const server_options opts;
    const http_handler http;
    const mesh_handler mesh;
    const std::shared_ptr<boost::asio::ssl::context> tls;  // null: plain TCP

    std::uint64_t next_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
    bool stopping() const { return stopping_.load(std::memory_order_acquire); }

    /// Registers (or replaces) a live session; false once stopping (the caller closes it).
    bool add(std::uint64_t id, std::weak_ptr<closable> s) {
        std::lock_guard lock(mu_);
        if (stopping_) return false;
        sessions_[id] = std::move(s);
        return true;
    }
    void remove(std::uint64_t id) {
        std::lock_guard lock(mu_);
        sessions_.erase(id);
    }
    /// Marks the server stopping and hands back every live session, once.
    std::vector<std::shared_ptr<closable>> begin_stop() {
        std::lock_guard lock(mu_);
        std::vector<std::shared_ptr<closable>> live;
        if (stopping_.exchange(true)) return live;
        for (auto& [id, weak] : sessions_)
            if (auto s = weak.lock()) live.push_back(std::move(s));
        sessions_.clear();
        return live;
    }

private:
    std::mutex mu_;
    std::unordered_map<std::uint64_t, std::weak_ptr<closable>> sessions_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> next_id_{1};
};

}  // namespace orbitmesh::transport
