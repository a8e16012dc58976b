#pragma once
// Private to transport/: what the listener and its sessions share.
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "transport/server.hpp"

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
    server_context(server_options o, http_handler h, mesh_handler m, http_gate g)
        : opts(std::move(o)), http(std::move(h)), mesh(std::move(m)), gate(std::move(g)) {}

    const server_options opts;
    const http_handler http;
    const mesh_handler mesh;
    const http_gate gate;

    std::uint64_t next_id() { return next_id_.fetch_add(1, std::memory_order_relaxed); }
    bool stopping() const { return stopping_.load(std::memory_order_acquire); }

    enum class admission { admitted, stopping, full };
    /// Registers a new connection unless the server is stopping or holds max_connections already.
    admission admit(std::uint64_t id, std::weak_ptr<closable> s) {
        std::lock_guard lock(mu_);
        if (stopping_) return admission::stopping;
        if (opts.max_connections != 0 && sessions_.size() >= opts.max_connections) return admission::full;
        sessions_[id] = std::move(s);
        return admission::admitted;
    }
    /// Replaces a live session's entry (an HTTP connection that became a WebSocket); false once
    /// stopping (the caller closes it).
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
