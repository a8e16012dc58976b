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
    enqueue([&got](store::outbox& box) {
        try {
            got.set_value(box.pending());
        } catch (...) {
            got.set_exception(std::current_exception());
        }
    });
    return fut.get();
}

void outbox_writer::put(store::outbox::entry e, done_fn done) {
    enqueue([this, e = std::move(e), done = std::move(done)](store::outbox& box) mutable {
        std::string error;
        try {
            box.put(e);
        } catch (const std::exception& ex) {
            error = ex.what();
        }
        if (done) post_to(io_, [done = std::move(done), error = std::move(error)] { done(error); });
    });
}

void outbox_writer::remove(std::string job_id, int attempt) {
    enqueue([job_id = std::move(job_id), attempt](store::outbox& box) {
        try {
            box.remove(job_id, attempt);
        } catch (const std::exception& ex) {
            // A result left behind is only resent and rejected as a duplicate; log and go on.
            log_line("cannot remove job " + job_id + " attempt " + std::to_string(attempt) +
                     " from the outbox: " + ex.what());
        }
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

void outbox_writer::enqueue(std::function<void(store::outbox&)> op) {
    {
        std::lock_guard lock(mu_);
        queue_.push_back(std::move(op));
    }
    cv_.notify_one();
}

void outbox_writer::run() {
    for (;;) {
        std::function<void(store::outbox&)> op;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return closing_ || !queue_.empty(); });
            if (queue_.empty()) return;  // closing and drained
            op = std::move(queue_.front());
            queue_.pop_front();
        }
        op(*box_);
    }
}

}  // namespace orbitmesh::engine::agent
