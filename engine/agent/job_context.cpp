#include <chrono>
#include <exception>
#include <thread>

#include "engine/agent/handler.hpp"
#include "transport/asio.hpp"

namespace orbitmesh::engine::agent {

namespace {
// Lines a process may have queued for the io thread before its reader waits.
constexpr int max_queued_lines = 10'000;
}  // namespace

std::string_view to_string(job_status s) noexcept {
    switch (s) {
        case job_status::succeeded: return "succeeded";
        case job_status::failed: return "failed";
        case job_status::timed_out: return "timed_out";
        case job_status::cancelled: return "cancelled";
    }
    return "failed";
}

std::string_view to_string(output_stream s) noexcept {
    switch (s) {
        case output_stream::out: return "stdout";
        case output_stream::err: return "stderr";
        case output_stream::data: return "data";
    }
    return "data";
}

job_context::job_context(net::io_context& io, net::thread_pool& blocking, job_request req, job_events events)
    : io_(io), blocking_(blocking), req_(std::move(req)), events_(std::move(events)) {}

std::map<std::string, std::string> job_context::env() const {
    std::map<std::string, std::string> env{
        {"ORBITMESH_JOB_ID", req_.job_id},
        {"ORBITMESH_ATTEMPT", std::to_string(req_.attempt)},
        {"ORBITMESH_IDEMPOTENCY_KEY", req_.idempotency_key},
        {"ORBITMESH_COMMAND", req_.command},
    };
    if (!req_.trace.empty()) env["TRACEPARENT"] = req_.trace;
    return env;
}

void job_context::emit_output(output_stream s, std::string line) {
    if (!io_.get_executor().running_in_this_thread()) {
        while (queued_lines_.load() > max_queued_lines && !io_.stopped())
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    ++queued_lines_;
    net::post(io_, [self = shared_from_this(), s, line = std::move(line)]() mutable {
        --self->queued_lines_;
        if (!self->finished_applied_ && self->events_.on_output) self->events_.on_output(s, std::move(line));
    });
}

void job_context::emit_progress(double percent, std::string message) {
    net::post(io_, [self = shared_from_this(), percent, message = std::move(message)]() mutable {
        if (!self->finished_applied_ && self->events_.on_progress)
            self->events_.on_progress(percent, std::move(message));
    });
}

void job_context::run_blocking(std::function<job_result()> work) {
    net::post(blocking_, [self = shared_from_this(), work = std::move(work)] {
        job_result r;
        try {
            r = work();
        } catch (const std::exception& e) {
            r.status = job_status::failed;
            r.error = e.what();
        }
        self->finish(std::move(r));
    });
}

void job_context::set_stop_handler(std::function<void(std::int64_t)> fn) { stop_handler_ = std::move(fn); }

void job_context::request_stop(std::int64_t grace_ms) {
    if (finished_applied_) return;
    const bool first = !stop_requested_;
    stop_requested_ = true;
    // A later request goes to the handler too: a shorter grace (the agent's second signal) may
    // bring the SIGKILL closer.
    if (stop_handler_) {
        stop_handler_(grace_ms);
    } else if (first) {
        finish(job_result{job_status::cancelled, std::nullopt, nullptr, {}});
    }
}

void job_context::finish(job_result r) {
    if (finished_.exchange(true)) return;
    net::post(io_, [self = shared_from_this(), r = std::move(r)]() mutable {
        self->finished_applied_ = true;
        // The stop handler usually owns the process or timer that holds this context.
        self->stop_handler_ = nullptr;
        if (self->events_.on_finish) self->events_.on_finish(std::move(r));
    });
}

}  // namespace orbitmesh::engine::agent
