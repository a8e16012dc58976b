#include "engine/agent/outbox_writer.hpp"

#include <exception>
#include <future>

#include "engine/agent/agent_log.hpp"
#include "engine/agent/io_post.hpp"

namespace orbitmesh::engine::agent {

outbox_writer::outbox_writer(boost::asio::io_context& io, std::unique_ptr<store::outbox> box)
    : io_(io), box_(std::move(box)) {
    thread_ = std::thread([this] { run(); });
}

outbox_writer::~outbox_writer() { close(); }

std::vector<store::outbox::entry> outbox_writer::load_pending() {
    // Runs before the first put, and enqueue order keeps it ahead of anything queued later.
    std::promise<std::vector<store::outbox::entry>> got;
    auto fut = got.get_future();
    enqueue([&got](store::outbox& box) -> after_commit {
        try {
            got.set_value(box.pending());
        } catch (...) {
            got.set_exception(std::current_exception());
        }
        return nullptr;
    });
    return fut.get();
}

void outbox_writer::put(store::outbox::entry e, done_fn done) {
    enqueue([this, e = std::move(e), done = std::move(done)](store::outbox& box) mutable -> after_commit {
        std::string error;
        try {
            box.put(e);
        } catch (const std::exception& ex) {
            error = ex.what();
        }
        return [this, error, done = std::move(done)](const std::string& group_error) mutable {
            if (!done) return;
            std::string why = error.empty() ? group_error : error;
            post_to(io_, [done = std::move(done), why = std::move(why)] { done(why); });
        };
    });
}

void outbox_writer::remove(std::string job_id, int attempt) {
    enqueue([job_id = std::move(job_id), attempt](store::outbox& box) -> after_commit {
        try {
            box.remove(job_id, attempt);
        } catch (const std::exception& ex) {
            // A result left behind is only resent and rejected as a duplicate; log and go on.
            log_line("cannot remove job " + job_id + " attempt " + std::to_string(attempt) +
                     " from the outbox: " + ex.what());
        }
        return nullptr;
    });
}

void outbox_writer::close() {
    {
        std::lock_guard lock(mu_);
        if (closing_ && !thread_.joinable()) return;
        closing_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void outbox_writer::enqueue(operation op) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(op));
    }
    cv_.notify_one();
}

void outbox_writer::run() {
    for (;;) {
        std::deque<operation> ops;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;  // closing and drained
            ops.swap(queue_);
        }
        run_group(ops);
    }
}

void outbox_writer::run_group(std::deque<operation>& ops) {
    bool grouped = true;
    try {
        box_->begin_group();
    } catch (const std::exception& ex) {
        grouped = false;  // each call commits on its own then; slower, still durable
        log_line(std::string("outbox: cannot group writes: ") + ex.what());
    }
    std::vector<after_commit> afters;
    for (auto& op : ops)
        if (auto after = op(*box_)) afters.push_back(std::move(after));
    std::string group_error;
    if (grouped) {
        try {
            box_->commit_group();
        } catch (const std::exception& ex) {
            box_->rollback_group();
            group_error = ex.what();
        }
    }
    for (auto& after : afters) after(group_error);
}

}  // namespace orbitmesh::engine::agent
