#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/json.hpp"
#include "engine/agent/handler.hpp"
#include "engine/agent/handler_registry.hpp"
#include "core/job_key.hpp"

namespace orbitmesh::engine::agent {

/// Runs assigned jobs in a bounded number of slots: starts handlers, numbers their output,
/// enforces timeouts, delivers cancels, and turns each ending into a `result` message.
/// Lives on the io thread; not thread-safe.
class job_runner {
public:
    enum class admission { started, already_running, busy, unknown_command, draining };
    struct callbacks {
        std::function<void(core::json)> send;       // output and progress messages
        std::function<void(core::json)> on_result;  // the finished `result` message
    };
    /// Grace between SIGTERM and SIGKILL when a job's own timeout expires.
    static constexpr std::int64_t timeout_grace_ms = 2000;
    static constexpr std::int64_t default_cancel_grace_ms = 10000;

    job_runner(boost::asio::io_context& io, boost::asio::thread_pool& blocking,
               const handler_registry& handlers, int slots, callbacks cb);
    ~job_runner();

    /// Starts the attempt (taking `req`), or says why not (leaving `req` as it was). A handler that
    /// throws while starting still counts as started: its job fails with the message.
    /// `finished_at_once` (when given) tells whether the handler already ended the job inside
    /// start(), as echo and other in-process handlers do; its end is still on its way to the io
    /// thread then.
    admission start(job_request&& req, bool* finished_at_once = nullptr);
    bool is_running(const std::string& job_id, int attempt) const;
    /// Stops every running attempt of `job_id` (SIGTERM, SIGKILL after grace); the result says
    /// `cancelled`. False when nothing of it runs here.
    bool cancel(const std::string& job_id, const std::string& reason, std::int64_t grace_ms);
    /// Refuses new jobs from now on (nack "draining"); running ones go on.
    void drain() { draining_ = true; }
    /// The twin's `drain` (SPEC §7): refuses new jobs like drain() while set, and can be cleared
    /// (drain() for shutdown cannot).
    void set_paused(bool paused) { paused_ = paused; }
    bool paused() const { return paused_; }
    /// Stops everything (SIGTERM now, SIGKILL after `grace_ms`) and drops the results: the hub
    /// reassigns them once the agent is gone. Refuses new jobs from then on; a later call with a
    /// shorter grace brings the SIGKILL closer.
    void abandon_all(std::int64_t grace_ms = 0);

    std::vector<std::pair<std::string, int>> running() const;
    std::size_t running_count() const { return jobs_.size(); }
    int slots() const { return slots_; }

private:
    struct job;
    /// Jobs live in reusable slots; a generation names one job in one slot, so a late event of a
    /// job that has ended (its slot reused or empty) finds nothing and is dropped.
    job* live(std::uint64_t generation) const;
    job_events events_for(std::uint64_t generation);
    void arm_timeout(job& j);
    void finished(std::uint64_t generation, job_result r);
    core::json result_message(const job& j, job_result r) const;

    boost::asio::io_context& io_;
    boost::asio::thread_pool& blocking_;
    const handler_registry& handlers_;
    int slots_;
    callbacks cb_;
    bool draining_ = false;
    bool paused_ = false;
    std::uint64_t next_generation_ = 0;
    using job_map = std::map<core::job_key, std::uint32_t, core::job_key_less>;
    job_map jobs_;                                          // running attempt -> its slot
    std::vector<std::unique_ptr<job>> slot_jobs_;           // a job's state, kept for reuse
    std::vector<std::uint32_t> free_slots_;
};

std::string_view to_string(job_runner::admission a) noexcept;

}  // namespace orbitmesh::engine::agent
