#pragma once
#include <cstdint>
#include <exception>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/agent.hpp"
#include "core/event.hpp"
#include "core/job.hpp"
#include "core/run.hpp"

namespace orbitmesh::store {

/// `full`: fsync before a commit is acknowledged (survives power loss). `normal`: survives a crash.
enum class durability { full, normal };

/// One streamed output line of a job (the `job_logs` table).
struct log_line {
    std::string job_id;
    int attempt = 0;
    std::int64_t seq = 0;    // per job, in order
    std::string stream;      // stdout | stderr | data
    std::string data;
    std::int64_t time_ms = 0;
    std::int64_t agent_seq = 0;  // the agent's seq of the line (0: unknown)
};

/// A `jobs` projection row, rendered by whoever builds the batch (off the writer thread, which
/// is the serial resource): the columns plus the record as JSON text.
struct job_row {
    job_row() = default;
    job_row(const core::job_record& r);  // NOLINT(google-explicit-constructor): a row of that record
    std::string id, state, command, agent_id, idempotency_key;  // empty text is stored as NULL
    int priority = 0;
    int attempt = 0;
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::int64_t version = 0;
    std::string record;  // core::to_json_text(r)
};

/// A `runs` projection row: the columns plus the run record as JSON text (`GET /api/v1/runs/ID`).
struct run_row {
    run_row() = default;
    explicit run_row(const core::run_record& r);
    std::string id, state, workflow_id, workflow_version, parent_run, idempotency_key;  // empty = NULL
    std::int64_t created_ms = 0;
    std::int64_t updated_ms = 0;
    std::int64_t version = 0;
    std::string record;  // core::to_json(r).dump()
};

/// An `idempotency_keys` row: the job or run a client's key created (the latest one wins).
struct idempotency_row {
    std::string kind;  // "job" | "run"
    std::string key;
    std::string id;
    std::int64_t created_ms = 0;
    /// Shared store: how long a key names its job or run (serve --idempotency-window); 0 for
    /// ever. A batch creating a job or run whose key another one holds within it is refused.
    std::int64_t window_ms = 0;
};

/// A snapshot of the hub's live state (`format`, MessagePack `data`). The store stamps `seq` with
/// the last event committed in or before the same transaction: the state is the fold of exactly
/// the events up to `seq`. It keeps the newest two.
struct snapshot_blob {
    std::int64_t seq = 0;
    std::int64_t time_ms = 0;
    int format = 0;
    std::string data;
};

/// An event a shared store's fence refused (SPEC §10): another hub got there first (a second
/// assignment of one attempt, a result for an attempt that is no longer current, a second end,
/// a job or run whose idempotency key another one holds, an event of a run whose lease another
/// hub holds now).
struct refused_event {
    std::string stream;
    std::string type;
    std::string reason;
    /// A creation refused for its idempotency key: the id of the job or run that holds the key
    /// (committed, since the key row commits with it). Empty for other refusals.
    std::string holder;
};

/// Everything one group of hub decisions writes, committed atomically in one transaction.
/// `events` get their global `seq` from the store; projection rows are upserts.
struct write_batch {
    std::vector<core::event> events;
    std::vector<job_row> jobs;               // upsert into `jobs` (id, state, ..., record json)
    std::vector<core::agent_record> agents;  // upsert into `agents`
    std::vector<log_line> logs;              // insert into `job_logs`
    std::vector<run_row> runs;               // upsert into `runs`
    std::vector<idempotency_row> keys;       // upsert into `idempotency_keys`
    std::optional<snapshot_blob> snapshot;   // written last, stamped with the seq reached
    /// Shared store only: filled with the events its fence dropped before `done` runs (their
    /// stream's later events in the batch and its projection row are dropped too).
    std::shared_ptr<std::vector<refused_event>> refused;
    bool empty() const {
        return events.empty() && jobs.empty() && agents.empty() && logs.empty() && runs.empty() && keys.empty() &&
               !snapshot;
    }
};

/// Writer counters since the store opened (for /api/v1/stats and /metrics).
struct store_stats {
    std::uint64_t commits = 0;        // transactions
    std::uint64_t events = 0;         // events appended
    std::uint64_t rows = 0;           // every row written (events, projections, log lines)
    std::uint64_t commit_micros = 0;  // time spent writing and committing, fsync included
};

/// Called once per submitted batch, on the writer thread, after its transaction committed
/// (nullptr) or failed (the exception). Must not block; post work elsewhere.
using commit_callback = std::function<void(std::exception_ptr)>;

/// The event store of SPEC §5 behind one interface, two backends: SQLite (`DATA_DIR/orbitmesh.db`,
/// WAL, migrations by `user_version`; the default) and PostgreSQL (`--store postgres://…`, the
/// shared store of several hubs). Either has one writer thread committing queued batches in
/// groups, and reads on their own connection. `submit` is thread-safe; the read functions must
/// not be called concurrently with each other.
class event_store {
public:
    struct options {
        std::filesystem::path path;  // the SQLite database file (when `url` is empty)
        std::string url = {};        // postgres://… or postgresql://…: the PostgreSQL store
        /// PostgreSQL: the writer holds the store's hub lock (a session advisory lock) for as long
        /// as it is open, so one hub at a time writes a database; another one opening it waits
        /// (a standby) until the holder's session ends, then opens. Offline writers (`token
        /// create`) pass false and only serialize their appends.
        bool exclusive = true;
        /// PostgreSQL, `serve --shared-store`: several active hubs append to one database. Events
        /// carry this hub id as their origin, job events pass the store's fence, stream versions
        /// are renumbered from the database and every commit NOTIFYs the other hubs. Empty: off.
        std::string hub_id = {};
        /// Called once, before the open waits for another hub's lock (for the log).
        std::function<void(const std::string&)> on_wait = {};
        durability mode = durability::full;
        std::size_t max_batch_events = 4096;  // per transaction
        int wal_restart_pages = 8192;         // past this WAL size (pages) the writer rewinds it
    };

    /// Opens or creates the database, runs migrations in one transaction, runs a quick integrity
    /// check (SQLite), starts the writer thread. Throws core::error{storage} with a clear message
    /// when the file is damaged, locked or not a database, core::error{unavailable} when the
    /// PostgreSQL server cannot be reached, core::error{usage} for a malformed URL.
    static std::unique_ptr<event_store> open(const options& opts);
    virtual ~event_store() = default;

    /// Queues a batch; `done` runs after it committed. Throws core::error{storage} after close().
    virtual void submit(write_batch batch, commit_callback done) = 0;
    /// Blocks until every batch submitted before the call has committed.
    virtual void flush() = 0;
    /// Drains the writer, checkpoints, closes. Idempotent.
    virtual void close() = 0;

    /// Calls `fn` for every event with seq > after_seq in seq order (streams: all when empty). An
    /// event whose data does not decode arrives with `data.is_discarded()`, for the caller to
    /// report and skip by its seq.
    virtual void for_each_event(const std::function<void(const core::event&)>& fn, std::int64_t after_seq = 0,
                                const std::string& stream = {}) = 0;
    /// Calls `fn` for every event of the streams whose name starts with `prefix` ("token-"), in seq
    /// order. Reads the (stream, version) index, not the whole log.
    virtual void for_each_event_in(std::string_view prefix, const std::function<void(const core::event&)>& fn) = 0;
    /// The projection tables as stored.
    virtual std::vector<core::job_record> load_jobs() = 0;
    virtual std::vector<core::agent_record> load_agents() = 0;
    /// (id, version) of every `jobs` row; version -1 for a row written before rows had one.
    virtual std::vector<std::pair<std::string, std::int64_t>> load_job_versions() = 0;
    /// One row of the `jobs` projection (a job the hub no longer keeps in memory), or nullopt.
    virtual std::optional<core::job_record> load_job(const std::string& id) = 0;
    /// Newest first (by id), at most `limit`, only `state` when not empty, only ids below
    /// `before` when not empty.
    virtual std::vector<core::job_record> load_jobs_page(std::size_t limit, const std::string& state,
                                                         const std::string& before) = 0;
    /// One row of the `runs` projection (its record), or nullopt.
    virtual std::optional<core::json> load_run(const std::string& id) = 0;
    /// Newest first, as load_jobs_page.
    virtual std::vector<core::json> load_runs_page(std::size_t limit, const std::string& state,
                                                   const std::string& before) = 0;
    /// Runs per state in the `runs` table.
    virtual std::map<std::string, std::int64_t> count_runs() = 0;
    /// Runs per (workflow id, state) in the `runs` table (/metrics).
    virtual std::map<std::pair<std::string, std::string>, std::int64_t> count_runs_by_workflow() = 0;
    /// The newest snapshot, or nullopt.
    virtual std::optional<snapshot_blob> load_snapshot() = 0;
    /// A job's output lines with seq > after_seq, oldest first, at most `limit`.
    virtual std::vector<log_line> load_logs(const std::string& job_id, std::int64_t after_seq, std::size_t limit) = 0;
    /// Highest committed seq (0 for an empty log).
    virtual std::int64_t last_seq() = 0;
    /// Shared store: the streams starting with `prefix` driven by a hub other than `hub_id`: the
    /// run's lease holder (run_leases) when it has one, else the hub that appended its first
    /// event. Empty for a store of one hub.
    virtual std::vector<std::string> streams_begun_elsewhere(std::string_view /*prefix*/, const std::string& /*hub_id*/) {
        return {};
    }
    /// Shared store: takes over the unfinished runs `dead_hub` drove (its lease, or its first
    /// event when nobody holds one) for `hub_id`, in one statement, so of several hubs claiming at
    /// once each run goes to exactly one. Returns the run ids this hub now drives.
    virtual std::vector<std::string> claim_runs_of(const std::string& /*dead_hub*/, const std::string& /*hub_id*/) {
        return {};
    }
    /// Shared store: claims for `hub_id`, for `for_ms`, the jobs of `job_ids` that are pending
    /// and not claimed by another hub, in one `UPDATE … FOR UPDATE SKIP LOCKED` (a row another
    /// hub is claiming at that moment is skipped, not waited for); returns the ids claimed. The
    /// fence refuses another hub's assignment of a claimed job. A store of one hub claims all.
    virtual std::vector<std::string> claim_jobs(const std::vector<std::string>& job_ids, const std::string& /*hub_id*/,
                                                std::int64_t /*for_ms*/) {
        return job_ids;
    }
    /// Thread-safe.
    virtual store_stats stats() const = 0;
};

}  // namespace orbitmesh::store
