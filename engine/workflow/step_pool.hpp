#pragma once
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace orbitmesh::engine {

/// A few worker threads for the blocking work of script and http steps (a node process, an
/// outbound request), so none of it runs on the hub strand. Bounded: submit() refuses past
/// `max_queued` waiting tasks. Threads start on the first submit. The destructor raises the
/// cancel flag (running node processes are killed through it), waits up to 1.5 s for running
/// tasks, and leaves any still blocked (an outbound request in its timeout) to end on their own.
/// Thread-safe.
class step_pool {
public:
    using task = std::function<void(const std::atomic<bool>& cancel)>;

    step_pool(std::size_t threads, std::size_t max_queued);
    ~step_pool();
    step_pool(const step_pool&) = delete;
    step_pool& operator=(const step_pool&) = delete;

    /// Queues `t`; false when the queue is full or the pool is stopping.
    bool submit(task t);
    std::size_t max_queued() const noexcept { return max_queued_; }

private:
    struct state {
        std::mutex mu;
        std::condition_variable wake;
        std::condition_variable idle;
        std::deque<task> queue;
        std::atomic<bool> cancel{false};
        int running = 0;
    };
    static void work(const std::shared_ptr<state>& st);

    std::shared_ptr<state> st_ = std::make_shared<state>();
    std::size_t threads_;
    std::size_t max_queued_;
    std::vector<std::thread> workers_;  // guarded by st_->mu
};

}  // namespace orbitmesh::engine
