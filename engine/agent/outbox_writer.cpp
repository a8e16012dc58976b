#include "engine/agent/outbox_writer.hpp"

#include <exception>
#include <future>

#include "engine/agent/agent_log.hpp"
#include "engine/agent/io_post.hpp"

namespace orbitmesh::engine::agent {

outbox_writer::outbox_writer(boost::asio::io_context& io, std::unique_ptr<store::outbox> box,
                             std::chrono::milliseconds remove_delay)
    : io_(io), box_(std::move(box)), remove_delay_(remove_delay) {
    thread_ = std::thread([this] { run(); });
}

outbox_writer::~outbox_writer() { close(); }

std::vector<store::outbox::entry> outbox_writer::load_pending() {
    // Runs before the first put: a group does its reads before its writes.
    std::promise<std::vector<store::outbox::entry>> got;
    auto fut = got.get_future();
    {
        std::lock_guard lock(mu_);
        queued_.reads.push_back([&got](store::outbox& box) {
            try {
                got.set_value(box.pending());
            } catch (...) {
                got.set_exception(std::current_exception());
            }
        });
    }
    cv_.notify_one();
    return fut.get();
}

void outbox_writer::put(std::vector<store::outbox::entry> entries, stored_fn done) {
    bool wake;
    {
        std::lock_guard lock(mu_);
        wake = queued_.puts.empty();  // otherwise the writer was woken already or is busy
        queued_.puts.push_back({std::move(entries), std::move(done)});
    }
    if (wake) cv_.notify_one();
}

void outbox_writer::remove(std::string job_id, int attempt) {
    bool wake;
    {
        std::lock_guard lock(mu_);
        wake = queued_.removals.empty();  // starts the writer's wait for puts to ride with
        queued_.removals.emplace_back(std::move(job_id), attempt);
    }
    if (wake) cv_.notify_one();
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

void outbox_writer::run() {
    for (;;) {
        group g;
        if (!take(g)) return;
        run_group(g);
    }
}

bool outbox_writer::take(group& g) {
    std::unique_lock lock(mu_);
    auto urgent = [this] { return closing_ || !queued_.reads.empty() || !queued_.puts.empty(); };
    cv_.wait(lock, [&] { return urgent() || !queued_.removals.empty(); });
    // Removals alone are not worth an fsync of their own while results keep coming: wait a
    // little for a group of puts to carry them.
    if (!urgent()) cv_.wait_for(lock, remove_delay_, urgent);
    if (queued_.empty()) return false;  // closing and drained
    std::swap(g, queued_);
    return true;
}

void outbox_writer::run_group(group& g) {
    for (auto& read : g.reads) read(*box_);
    if (g.removals.empty() && g.puts.empty()) return;
    bool grouped = true;
    try {
        box_->begin_group();
    } catch (const std::exception& ex) {
        grouped = false;  // each call commits on its own then; slower, still durable
        log_line(std::string("outbox: cannot group writes: ") + ex.what());
    }
    // Removals first: a result put again after its removal was queued (a re-run of the same
    // attempt) must stay.
    for (const auto& [job_id, attempt] : g.removals) {
        try {
            box_->remove(job_id, attempt);
        } catch (const std::exception& ex) {
            // A result left behind is only resent and acknowledged as a duplicate; log and go on.
            log_line("cannot remove job " + job_id + " attempt " + std::to_string(attempt) +
                     " from the outbox: " + ex.what());
        }
    }
    // Every result of the group in one call: the SQLite outbox keeps them in one row.
    std::vector<const store::outbox::entry*> entries;
    for (const auto& p : g.puts)
        for (const auto& e : p.entries) entries.push_back(&e);
    std::string put_error;
    if (!entries.empty()) {
        try {
            box_->put_all(entries);
        } catch (const std::exception& ex) {
            put_error = ex.what();
        }
    }
    std::string group_error;
    if (grouped) {
        try {
            box_->commit_group();
        } catch (const std::exception& ex) {
            box_->rollback_group();
            group_error = ex.what();
        }
    }
    if (!g.puts.empty()) finish_puts(g.puts, put_error.empty() ? group_error : put_error);
}

void outbox_writer::finish_puts(std::vector<put_request>& puts, const std::string& error) {
    // One post for the whole group: the io thread is woken once, not once per result.
    post_to(io_, [puts = std::move(puts), error]() mutable {
        for (auto& p : puts)
            if (p.done) p.done(std::move(p.entries), error);
    });
}

}  // namespace orbitmesh::engine::agent
