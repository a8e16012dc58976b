#include "store/commit_queue.hpp"

#include <chrono>
#include <pthread.h>
#include <utility>

#include "core/error.hpp"

namespace orbitmesh::store {

commit_queue::commit_queue(std::size_t max_rows, std::string thread_name, commit_fn commit)
    : max_rows_(max_rows),
      name_(std::move(thread_name)),
      commit_(std::move(commit)),
      thread_([this] { run(); }),
      writer_id_(thread_.get_id()) {}

commit_queue::~commit_queue() { close(); }

std::size_t commit_queue::rows(const write_batch& b) {
    return b.events.size() + b.jobs.size() + b.agents.size() + b.logs.size() + b.runs.size() + b.keys.size() +
           (b.snapshot ? 1 : 0);
}

bool commit_queue::submit(write_batch batch, commit_callback done) {
    {
        std::lock_guard lock(mutex_);
        if (closing_) return false;
        queue_.push_back({std::move(batch), std::move(done)});
        ++submitted_;
    }
    work_.notify_one();
    return true;
}

void commit_queue::flush() {
    std::unique_lock lock(mutex_);
    const auto target = submitted_;
    if (done_ >= target) return;
    if (std::this_thread::get_id() == writer_id_) {
        throw core::error{core::error_kind::internal,
                          "event_store::flush() called from a commit callback would wait for itself forever"};
    }
    finished_.wait(lock, [&] { return done_ >= target; });
}

void commit_queue::close() {
    std::lock_guard close_lock(close_mutex_);
    if (joined_) return;
    {
        std::lock_guard lock(mutex_);
        closing_ = true;
    }
    work_.notify_one();
    thread_.join();  // the writer drains the queue before it returns
    joined_ = true;
}

store_stats commit_queue::stats() const {
    return {commits_.load(std::memory_order_relaxed), events_.load(std::memory_order_relaxed),
            rows_.load(std::memory_order_relaxed), commit_micros_.load(std::memory_order_relaxed)};
}

void commit_queue::run() {
    pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
    std::vector<pending> group;
    while (take_group(group)) {
        commit_group(group);
        const auto count = group.size();
        group.clear();  // free the batches before telling flush() they are done
        {
            std::lock_guard lock(mutex_);
            done_ += count;
        }
        finished_.notify_all();
    }
}

bool commit_queue::take_group(std::vector<pending>& group) {
    std::unique_lock lock(mutex_);
    work_.wait(lock, [this] { return !queue_.empty() || closing_; });
    std::size_t total = 0;
    while (!queue_.empty()) {
        const auto n = rows(queue_.front().batch);
        if (!group.empty() && total + n > max_rows_) break;
        total += n;
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
    }
    return !group.empty();
}

void commit_queue::commit_group(std::vector<pending>& group) {
    std::vector<const write_batch*> batches;
    batches.reserve(group.size());
    for (const auto& p : group) batches.push_back(&p.batch);
    std::vector<std::exception_ptr> errors(group.size());
    const auto t0 = std::chrono::steady_clock::now();
    try {
        commit_(batches, errors);
    } catch (...) {
        errors.assign(group.size(), std::current_exception());
    }
    const auto took = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0);
    std::uint64_t events = 0, written = 0;
    for (const auto* b : batches) {
        events += b->events.size();
        written += rows(*b);
    }
    commits_.fetch_add(1, std::memory_order_relaxed);
    events_.fetch_add(events, std::memory_order_relaxed);
    rows_.fetch_add(written, std::memory_order_relaxed);
    commit_micros_.fetch_add(static_cast<std::uint64_t>(took.count()), std::memory_order_relaxed);
    for (std::size_t i = 0; i < group.size(); ++i) {
        if (!group[i].done) continue;
        try {
            group[i].done(errors[i]);
        } catch (...) {
            // A throwing callback must not stop the writer and strand every later commit.
        }
    }
}

}  // namespace orbitmesh::store
