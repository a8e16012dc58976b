#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/agent_machine.hpp"
#include "core/event.hpp"
#include "core/run.hpp"
#include "engine/replay/arena.hpp"
#include "engine/replay/job_slot.hpp"
#include "engine/replay/slot_index.hpp"

namespace orbitmesh::engine::replay {

/// The kinds of streams in the log, by name prefix.
enum class stream_kind { job, agent, run, workflow, other };
stream_kind kind_of(std::string_view stream) noexcept;
std::string_view to_string(stream_kind k) noexcept;

/// Streams and events of one kind, with the times they span.
struct kind_stats {
    std::size_t streams = 0;
    std::size_t events = 0;
    std::int64_t first_ms = 0;
    std::int64_t last_ms = 0;
};

/// An event a fold refused (illegal transition, unreadable data): skipped, as the hub skips it.
struct refused_event {
    std::int64_t seq = 0;
    std::string stream;
    std::string type;
    std::string reason;
};

/// The job or run a client's idempotency key created most recently.
struct key_entry {
    std::string id;
    std::int64_t created_ms = 0;
    std::int64_t seq = 0;
};

/// Everything a replay rebuilds from a range of the log: jobs (in place, job_slot), agents,
/// runs, registered workflows, idempotency keys, refused events and counts. A state for a range
/// that does not start at the beginning (`deferring`) folds only streams that begin in it and
/// keeps the other events for merge() into the state of the ranges before, sorted into
/// `partitions` lists by job (see merge). Not thread-safe; one per thread, merged in seq order
/// afterwards.
class log_state {
public:
    explicit log_state(bool deferring = false, std::size_t partitions = 1)
        : deferring_(deferring), deferred_jobs_(partitions == 0 ? 1 : partitions) {}
    log_state(log_state&&) = default;
    log_state& operator=(log_state&&) = default;

    /// Room for the jobs of about `events` events (a job is four or more), so the fold does
    /// not move hundreds of thousands of slots as it grows.
    void reserve(std::size_t expected);
    /// Folds one event (events arrive in seq order).
    void fold(const core::event_view& e);
    /// Hints for fold(e), to call just before it with other lookups between: prefetch() starts
    /// loading the job's index entry, prefetch_slot() reads it and starts loading the slot.
    void prefetch(const core::event_view& e) const noexcept;
    void prefetch_slot(const core::event_view& e) const noexcept;
    /// Adds the state of the range right after this one's. The events it deferred for jobs this
    /// state already has are folded on one thread per partition of `later` (each job's events
    /// are in one partition, and the threads touch only those jobs' slots); the rest after, on
    /// this thread, in seq order. The result equals folding both ranges in one pass.
    void merge(log_state&& later);
    /// The deferral partition (of `partitions`) of a job's events, by its id.
    static std::size_t partition_of(std::string_view job_id, std::size_t partitions) noexcept;

    const std::vector<job_slot>& jobs() const { return jobs_; }
    const job_slot* find_job(std::string_view id) const;
    /// Jobs per state.
    std::map<core::job_state, std::size_t> job_counts() const;

    std::map<std::string, core::agent_history, std::less<>> agents;
    std::map<std::string, core::run_record, std::less<>> runs;
    std::map<std::string, std::vector<std::string>, std::less<>> workflows;  // id -> versions registered
    std::map<std::pair<std::string, std::string>, key_entry> keys;          // (job|run, key)
    std::vector<refused_event> refused;  // the first max_refused kept
    std::size_t refused_count = 0;
    static constexpr std::size_t max_refused = 1000;

    std::size_t events = 0;
    std::int64_t first_seq = 0, last_seq = 0;
    /// Streams and events per kind (kinds with no events left out).
    std::map<stream_kind, kind_stats> kinds() const;

private:
    struct deferred {
        std::int64_t seq, version, time_ms;
        std::string_view stream, type;
        std::span<const std::uint8_t> data;
    };
    struct side;
    void fold_known_jobs(const std::vector<deferred>& list, side& out);
    void fold_deferred(log_state& later);
    void fold_job(const core::event_view& e);
    void fold_other(const core::event_view& e, stream_kind k);
    bool defer(const core::event_view& e, bool known);
    void refuse(const core::event_view& e, const std::string& why);
    void count(const core::event_view& e, stream_kind k);
    std::uint32_t slot_of(std::string_view id) const;

    bool deferring_;
    arena mem_;
    std::vector<arena> mems_;  // of merged states: their slots point into them
    std::array<kind_stats, 5> kinds_{};  // by stream_kind: counted per event, so no map lookup
    std::vector<job_slot> jobs_;
    slot_index index_;
    std::vector<std::vector<deferred>> deferred_jobs_;  // by partition_of
    std::vector<deferred> deferred_other_;              // agents and runs: few, folded on one thread
    std::set<std::string, std::less<>> other_streams_;
};

}  // namespace orbitmesh::engine::replay
