#pragma once
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.hpp"

namespace boost::asio {
class io_context;
class thread_pool;
}  // namespace boost::asio

namespace orbitmesh::engine::agent {

/// How a job attempt ended, as reported in `result.status`.
enum class job_status { succeeded, failed, timed_out, cancelled };
std::string_view to_string(job_status s) noexcept;

/// The `stream` of an `output` message.
enum class output_stream { out, err, data };
std::string_view to_string(output_stream s) noexcept;

/// What a handler hands back; the runner turns it into a `result` message.
struct job_result {
    job_status status = job_status::succeeded;
    std::optional<int> exit_code;
    core::json output;
    std::string error;
};

/// One assigned attempt as the agent received it.
struct job_request {
    std::string job_id;
    int attempt = 1;
    std::string idempotency_key;
    std::string command;
    core::json payload;
    std::string mode;
    std::int64_t timeout_ms = 0;
    std::string trace;
};

/// Where a context's events go. Each is called on the io thread, in the order emitted.
struct job_events {
    std::function<void(output_stream, std::string line)> on_output;
    std::function<void(double percent, std::string message)> on_progress;
    std::function<void(job_result)> on_finish;  // exactly once
};

/// A running job as its handler sees it. Shared by the runner and the handler; emit_* and finish
/// are thread-safe, set_stop_handler/request_stop run on the io thread.
class job_context : public std::enable_shared_from_this<job_context> {
public:
    job_context(boost::asio::io_context& io, boost::asio::thread_pool& blocking, job_request req,
                job_events events);

    const job_request& request() const { return req_; }
    const core::json& payload() const { return req_.payload; }
    std::int64_t timeout_ms() const { return req_.timeout_ms; }
    /// ORBITMESH_JOB_ID, ORBITMESH_ATTEMPT, ORBITMESH_IDEMPOTENCY_KEY (+ TRACEPARENT when set).
    std::map<std::string, std::string> env() const;
    boost::asio::io_context& io() { return io_; }

    /// One line of output (no newline). Blocks a non-io thread briefly when too many lines are
    /// queued, so a chatty process is slowed by its pipe instead of growing memory.
    void emit_output(output_stream s, std::string line);
    void emit_progress(double percent, std::string message);

    /// Runs `work` on the blocking pool (file I/O) and finishes with what it returns; an exception
    /// becomes a failed result carrying its message.
    void run_blocking(std::function<job_result()> work);

    /// What to do on cancel or timeout; `grace_ms` is how long before forcing. Without one, a stop
    /// finishes the job at once (its late result is ignored). io thread only.
    void set_stop_handler(std::function<void(std::int64_t grace_ms)> fn);
    /// Asks the handler to stop. Each call reaches the stop handler (which must tolerate that; a
    /// process job keeps the earliest SIGKILL time), only the first counts otherwise. io thread only.
    void request_stop(std::int64_t grace_ms);
    bool stop_requested() const { return stop_requested_; }

    /// Ends the job; the first call wins, later ones are ignored. Any thread.
    void finish(job_result r);
    bool finished() const { return finished_.load(); }

private:
    boost::asio::io_context& io_;
    boost::asio::thread_pool& blocking_;
    job_request req_;
    job_events events_;
    std::function<void(std::int64_t)> stop_handler_;
    bool stop_requested_ = false;
    bool finished_applied_ = false;  // io thread: on_finish ran; later events are dropped
    std::atomic<bool> finished_{false};
    std::atomic<int> queued_lines_{0};
};

/// A named piece of work the agent offers (`shell`, `echo`, a plugin, ...). Shared by all jobs.
class handler {
public:
    virtual ~handler() = default;
    /// The canonical name (see core::canonical_command).
    virtual std::string name() const = 0;
    /// Starts one job and returns promptly (never blocks the io thread); the job ends with exactly
    /// one ctx->finish(). May throw core::error for a bad payload (the job then fails with it).
    virtual void start(const std::shared_ptr<job_context>& ctx) = 0;
};

}  // namespace orbitmesh::engine::agent
