#pragma once
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/outbox.hpp"

namespace boost::asio {
class io_context;
}

namespace orbitmesh::engine::agent {

/// Owns the agent's outbox on a thread of its own, so fsyncs never stall the io thread.
/// Operations run in the order queued; completions are posted back to the io thread.
class outbox_writer {
public:
    using done_fn = std::function<void(std::string error)>;  // empty error = durable

    /// Takes the opened outbox and starts the writer thread.
    outbox_writer(boost::asio::io_context& io, std::unique_ptr<store::outbox> box);
    /// Finishes what is queued, then joins.
    ~outbox_writer();
    outbox_writer(const outbox_writer&) = delete;
    outbox_writer& operator=(const outbox_writer&) = delete;

    /// Everything not yet acknowledged, read synchronously; call once at start before any put.
    std::vector<store::outbox::entry> load_pending();
    /// Stores a result durably, then calls `done` on the io thread. Thread-safe.
    void put(store::outbox::entry e, done_fn done);
    /// Forgets a result the hub acknowledged. Thread-safe.
    void remove(std::string job_id, int attempt);
    /// Finishes queued work and stops the thread. Idempotent.
    void close();

private:
    void run();
    void enqueue(std::function<void(store::outbox&)> op);

    boost::asio::io_context& io_;
    std::unique_ptr<store::outbox> box_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void(store::outbox&)>> queue_;
    bool closing_ = false;
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
