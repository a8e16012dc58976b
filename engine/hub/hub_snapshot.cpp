// Snapshots of the hub's live state: taken every --snapshot-every events and at a clean stop,
// committed with every projection row that lagged, so the rows are exact at the snapshot's seq.
#include "core/clock.hpp"
#include "core/snapshot.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

void hub::count_for_snapshot(std::size_t events) {
    events_since_snapshot_ += events;
    if (opts_.snapshot_every == 0 || opts_.shared_store || snapshot_posted_ || stopping_) return;
    // A snapshot costs in proportion to the live jobs: with many queued, take them less often
    // so they stay a small share of the work.
    const std::size_t due = std::max(opts_.snapshot_every, 20 * (jobs_.size() - std::min(jobs_.size(), prunable_.size())));
    if (events_since_snapshot_ < due) return;
    snapshot_posted_ = true;
    boost::asio::post(strand_, [self = shared_from_this()] {
        self->snapshot_posted_ = false;
        if (!self->stopping_) self->take_snapshot();
    });
}

void hub::take_snapshot() {
    events_since_snapshot_ = 0;
    if (opts_.shared_store) {  // one hub's memory is not the shared log's state at any seq
        stage_dirty_jobs(dirty_jobs_.size());
        flush_staged();
        return;
    }
    core::hub_snapshot s;
    s.time_ms = clock_.now_ms();
    for (const auto& [id, job] : jobs_)
        if (!core::is_terminal(job.state)) s.jobs.push_back(job);
    for (std::size_t i = 0; i < core::job_state_count; ++i) s.job_counts[i] = static_cast<std::int64_t>(state_counts_[i]);
    for (const auto& [id, a] : agents_)
        if (a->version > 0) s.agents.push_back({a->rec, a->version, a->stream_state == core::agent_state::connected});
    const auto now = s.time_ms;
    for (const auto& [key, entry] : idempotency_)
        if (now - entry.second < opts_.idempotency_window_ms) s.keys.push_back({"job", key, entry.first, entry.second});
    s.key_window_ms = opts_.idempotency_window_ms;
    // Every row that lags goes into the snapshot's own batch: at its seq the tables are exact.
    store::write_batch rows;
    for (auto& o : observers_) o->snapshot(s, rows);
    stage_dirty_jobs(dirty_jobs_.size());
    persist(std::move(rows), nullptr);
    staged_.snapshot = store::snapshot_blob{0, s.time_ms, core::hub_snapshot::format, core::encode(s)};
    flush_staged();
}

}  // namespace orbitmesh::engine
