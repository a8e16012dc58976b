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
/// Operations run in the order queued; everything queued together is committed as one group
/// (one fsync for many results); completions are posted back to the io thread after the commit.
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
    /// An operation on the outbox; what it returns runs on the io thread once the group it was
    /// part of is committed, told the group's error ("" = durable).
    using after_commit = std::function<void(const std::string& error)>;
    using operation = std::function<after_commit(store::outbox&)>;

    void run();
    void run_group(std::deque<operation>& ops);
    void enqueue(operation op);

    boost::asio::io_context& io_;
    std::unique_ptr<store::outbox> box_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<operation> queue_;
    bool closing_ = false;
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
