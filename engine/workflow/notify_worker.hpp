#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/url.hpp"

namespace orbitmesh::engine {

/// One webhook POST a `notify` step asks for.
struct notify_delivery {
    core::server_url url;
    std::string body;  // JSON text
    std::chrono::milliseconds timeout{5'000};
    /// Called once, on a worker thread, with the outcome: "" on a 2xx answer, else why not
    /// (`webhook http://…: answered HTTP 500`, `… cannot connect: …`). Must not block.
    std::function<void(std::string error)> done;
};

/// Delivers `notify` webhooks for the workflow runner: a bounded queue served by a few worker
/// threads, so a slow or dead webhook never blocks the hub strand and never costs a thread per
/// call. The runner owns it; drain() (or the destructor) at shutdown stops taking deliveries,
/// lets the POSTs in flight finish (each bounded by its timeout) and drops the queued ones: their
/// steps are still `running` in the event log, and recovery sends them again (at least once).
/// Thread-safe.
class notify_worker {
public:
    /// How one delivery is POSTed: transport::post_webhook, or a fake in tests. Returns the HTTP
    /// status; throws core::error naming the webhook.
    using post_fn = std::function<int(const notify_delivery&)>;

    explicit notify_worker(std::size_t threads = 2, std::size_t max_queued = 256, post_fn post = nullptr);
    ~notify_worker();
    notify_worker(const notify_worker&) = delete;
    notify_worker& operator=(const notify_worker&) = delete;

    /// Queues a delivery. False (and `d.done` not called) when the queue is full or draining:
    /// the caller fails the step with that.
    bool submit(notify_delivery d);
    /// Stops taking deliveries, drops the queued ones, waits for the ones in flight. Idempotent.
    void drain();
    std::size_t max_queued() const { return max_queued_; }

private:
    void serve();

    const std::size_t max_queued_;
    post_fn post_;
    std::mutex mu_;
    std::condition_variable wake_;
    std::deque<notify_delivery> queue_;
    bool draining_ = false;
    std::vector<std::thread> threads_;
    std::mutex drain_mu_;  // one drain at a time joins the threads
};

}  // namespace orbitmesh::engine
