#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/agent.hpp"
#include "core/event.hpp"
#include "core/job.hpp"
#include "core/snapshot.hpp"
#include "store/event_store.hpp"

namespace orbitmesh::engine {

/// What the hub offers to components that run on its strand and drive jobs themselves (the
/// workflow runner). Every call must be made on the hub strand (see hub::post).
class job_port {
public:
    virtual ~job_port() = default;
    /// Creates a pending job whose `job.submitted` event goes into `batch`; returns its id. The job
    /// is queued for dispatch once `batch` is committed through commit().
    virtual std::string create_job(core::job_spec spec, store::write_batch& batch) = 0;
    /// Cancels a job as `job cancel` does (pending: at once; running: SIGTERM through its agent).
    virtual void cancel_job(const std::string& job_id, const std::string& reason) = 0;
    /// The job's current record, or nullptr.
    virtual const core::job_record* job(const std::string& job_id) = 0;
    /// Connected agents (circuit closed) that could run `spec` now: for `fan_out: all`.
    virtual std::vector<core::agent_record> agents_for(const core::job_spec& spec) = 0;
    /// Commits a batch in order with the hub's own writes; `on_committed` runs on the strand after.
    virtual void commit(store::write_batch batch, std::function<void()> on_committed) = 0;
    /// Runs `fn` on the strand after `delay_ms` (no cancellation: re-check state when it fires).
    virtual void after(std::int64_t delay_ms, std::function<void()> fn) = 0;
    /// A run's record from the `runs` projection (for runs no longer kept in memory), or nullopt.
    virtual std::optional<core::json> stored_run(const std::string& /*run_id*/) { return std::nullopt; }
    /// Runs from the `runs` projection, newest first, only `state` when not empty.
    virtual std::vector<core::json> stored_runs(std::size_t /*limit*/, const std::string& /*state*/) { return {}; }
    /// Several hubs share the store (serve --shared-store): a run with an idempotency key acts only
    /// once its start is committed, since the store may refuse it for another hub's run.
    virtual bool shared_store() const { return false; }
    /// Every event of one stream, in order (to bring a run back into memory from the log).
    virtual std::vector<core::event> stream_events(const std::string& /*stream*/) { return {}; }
};

/// Told about job outcomes by the hub, on the hub strand, after they are committed.
class job_observer {
public:
    virtual ~job_observer() = default;
    /// Events of streams the hub does not own (anything but job-* and agent-*), in log order,
    /// while the hub recovers at start-up.
    virtual void replay(const core::event& e) = 0;
    /// Recovery is over: jobs are loaded; resume what was in flight.
    virtual void recovered() = 0;
    /// Shared store: this hub now drives run `run_id`, which a dead hub drove: load it from the
    /// log and carry it on (as recovered() does for runs of its own).
    virtual void adopt_run(const std::string& /*run_id*/) {}
    /// Shared store: an event another hub appended to a stream that is not a job's, an agent's
    /// or a twin's (a workflow registered there), to fold into what this hub knows.
    virtual void foreign_event(const core::event& /*e*/) {}
    /// Shared store: the store refused an event of run `run_id` this hub appended: its
    /// idempotency key names another run (`r.holder`; the refused event is its run.started), or
    /// another hub took the run over. Either way this hub must not drive it.
    virtual void run_refused(const std::string& /*run_id*/, const store::refused_event& /*r*/) {}
    /// A job reached a terminal state (committed).
    virtual void job_ended(const core::job_record& job) = 0;
    /// Shared store: another hub ended the job (its own observers saw job_ended there).
    virtual void foreign_job_ended(const core::job_record& job) { job_ended(job); }
    /// A job produced an output line (not yet necessarily committed).
    virtual void job_output(const store::log_line& line) = 0;
    /// Adds the observer's own counters to the hub's stats (/api/v1/stats, /metrics).
    virtual void add_stats(core::json& /*stats*/) const {}
    /// A start from a snapshot: takes the observer's part of it, and returns the streams to fold
    /// again up to the snapshot's seq before the tail is replayed (names; a name ending in '-' is
    /// a prefix: every stream starting with it). An observer whose state lives in its own streams
    /// must name them here, or it starts without what happened before the snapshot.
    virtual std::vector<std::string> restore(const core::hub_snapshot& /*s*/) { return {}; }
    /// A snapshot is being taken: add the observer's part, and stage every projection row that
    /// lags its events into `batch` (the snapshot's batch leaves every row current).
    virtual void snapshot(core::hub_snapshot& /*s*/, store::write_batch& /*batch*/) {}
};

}  // namespace orbitmesh::engine
