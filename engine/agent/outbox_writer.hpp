#pragma once
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "store/outbox.hpp"

namespace boost::asio {
class io_context;
}

namespace orbitmesh::engine::agent {

/// Owns the agent's outbox on a thread of its own, so fsyncs never stall the io thread.
/// Everything queued while the previous group was being committed goes into the next group:
/// one transaction and one fsync for many results. Completions are posted back to the io
/// thread after the commit, one post per group.
class outbox_writer {
public:
    /// The entries given to put(), handed back after the commit; `error` is empty when they are
    /// durable.
    using stored_fn = std::function<void(std::vector<store::outbox::entry> entries, const std::string& error)>;
    /// How long removals wait for a group of puts to ride with before they are committed alone.
    static constexpr std::chrono::milliseconds default_remove_delay{100};

    /// Takes the opened outbox and starts the writer thread.
    outbox_writer(boost::asio::io_context& io, std::unique_ptr<store::outbox> box,
                  std::chrono::milliseconds remove_delay = default_remove_delay);
    /// Finishes what is queued (removals included), then joins.
    ~outbox_writer();
    outbox_writer(const outbox_writer&) = delete;
    outbox_writer& operator=(const outbox_writer&) = delete;

    /// Everything not yet acknowledged, read synchronously; call once at start before any put.
    std::vector<store::outbox::entry> load_pending();
    /// Stores the entries durably (one group), then calls `done` once on the io thread with them.
    /// Thread-safe.
    void put(std::vector<store::outbox::entry> entries, stored_fn done);
    /// Forgets a result the hub acknowledged. Not durable at once: removals ride with the next
    /// group of puts, or go alone after `remove_delay` without one. A removal lost to a crash only
    /// means the result is resent once and acknowledged again as a duplicate. Thread-safe.
    void remove(std::string job_id, int attempt);
    /// Finishes queued work (removals included) and stops the thread. Idempotent.
    void close();

private:
    struct put_request {
        std::vector<store::outbox::entry> entries;
        stored_fn done;
    };
    using removal = std::pair<std::string, int>;
    /// What one transaction does, taken from the queues at once.
    struct group {
        std::vector<std::function<void(store::outbox&)>> reads;
        std::vector<removal> removals;
        std::vector<put_request> puts;
        bool empty() const { return reads.empty() && removals.empty() && puts.empty(); }
    };

    void run();
    bool take(group& g);
    void run_group(group& g);
    void finish_puts(std::vector<put_request>& puts, const std::string& error);

    boost::asio::io_context& io_;
    std::unique_ptr<store::outbox> box_;
    std::chrono::milliseconds remove_delay_;
    std::mutex mu_;
    std::condition_variable cv_;
    group queued_;  // guarded by mu_
    bool closing_ = false;
    std::thread thread_;
};

}  // namespace orbitmesh::engine::agent
