#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "store/event_store.hpp"

namespace orbitmesh::store {

/// The writer thread every backend shares: batches queue up, the thread takes everything queued
/// (up to `max_rows` rows, at least one batch) and hands the group to the backend's commit
/// function, counts it, and runs each batch's callback. Thread-safe.
class commit_queue {
public:
    /// Writes the group in one transaction; errors[i] is nullptr when batch i committed.
    /// Runs on the writer thread only.
    using commit_fn = std::function<void(std::span<const write_batch* const>, std::vector<std::exception_ptr>&)>;

    /// Starts the writer thread, named `thread_name` (top -H, gdb).
    commit_queue(std::size_t max_rows, std::string thread_name, commit_fn commit);
    ~commit_queue();
    commit_queue(const commit_queue&) = delete;
    commit_queue& operator=(const commit_queue&) = delete;

    /// Queues a batch; false after close() began (the caller throws its own "closed" error).
    bool submit(write_batch batch, commit_callback done);
    /// Blocks until every batch submitted before the call has committed.
    void flush();
    /// Drains the queue and joins the writer. Idempotent.
    void close();
    store_stats stats() const;

    /// Every row a batch writes: what `max_rows` bounds per transaction.
    static std::size_t rows(const write_batch& b);

private:
    struct pending {
        write_batch batch;
        commit_callback done;
    };
    void run();
    bool take_group(std::vector<pending>& group);
    void commit_group(std::vector<pending>& group);

    const std::size_t max_rows_;
    const std::string name_;
    commit_fn commit_;
    std::mutex mutex_;
    std::condition_variable work_, finished_;
    std::deque<pending> queue_;
    std::uint64_t submitted_ = 0, done_ = 0;
    bool closing_ = false;
    std::atomic<std::uint64_t> commits_{0}, events_{0}, rows_{0}, commit_micros_{0};
    std::mutex close_mutex_;
    bool joined_ = false;
    std::thread thread_;
    const std::thread::id writer_id_;
};

}  // namespace orbitmesh::store
