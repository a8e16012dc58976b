// Worker threads for script and http steps.
#include "engine/workflow/step_pool.hpp"

#include <chrono>

namespace orbitmesh::engine {

step_pool::step_pool(std::size_t threads, std::size_t max_queued) : threads_(threads < 1 ? 1 : threads), max_queued_(max_queued) {}

step_pool::~step_pool() {
    std::unique_lock lock(st_->mu);
    st_->cancel = true;
    st_->queue.clear();
    st_->wake.notify_all();
    st_->idle.wait_for(lock, std::chrono::milliseconds(1500), [this] { return st_->running == 0; });
    auto workers = std::move(workers_);
    const bool idle = st_->running == 0;
    lock.unlock();
    for (auto& w : workers) {
        if (idle) w.join();
        else w.detach();  // it holds the state; the process is on its way out
    }
}

bool step_pool::submit(task t) {
    std::lock_guard lock(st_->mu);
    if (st_->cancel || st_->queue.size() >= max_queued_) return false;
    st_->queue.push_back(std::move(t));
    if (workers_.size() < threads_ && static_cast<std::size_t>(st_->running) + st_->queue.size() > workers_.size())
        workers_.emplace_back([st = st_] { work(st); });
    st_->wake.notify_one();
    return true;
}

void step_pool::work(const std::shared_ptr<state>& st) {
    std::unique_lock lock(st->mu);
    for (;;) {
        st->wake.wait(lock, [&] { return st->cancel || !st->queue.empty(); });
        if (st->cancel) return;
        task t = std::move(st->queue.front());
        st->queue.pop_front();
        ++st->running;
        lock.unlock();
        t(st->cancel);
        lock.lock();
        --st->running;
        st->idle.notify_all();
    }
}

}  // namespace orbitmesh::engine
