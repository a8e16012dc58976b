// The `runs` projection (rows written as runs change: ended runs at once, in-flight ones by a
// tick), finished runs leaving memory once their row is durable, and runs folded back from the
// log when a client asks about one that left.
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

void runner::stage_row(live_run& r, const core::event& e, store::write_batch& batch) {
    if (e.type == core::run_event::started && !r.rec.idempotency_key.empty())
        batch.keys.push_back({"run", r.rec.idempotency_key, r.rec.id, r.rec.created_ms});
    if (core::is_terminal(r.rec.state)) {
        // Written with the event that ends the run: a finished run's row is exact.
        // flush() queues it for pruning once this batch has committed.
        dirty_runs_.erase(r.rec.id);
        batch.runs.emplace_back(r.rec);
        return;
    }
    // In flight: the row follows within rows_tick_ms (a run's steps change it many times).
    dirty_runs_.insert(r.rec.id);
    if (rows_timer_) return;
    rows_timer_ = true;
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(rows_tick_ms, [weak] {
        auto self = weak.lock();
        if (!self) return;
        self->rows_timer_ = false;
        store::write_batch rows;
        self->stage_dirty_rows(rows_per_tick, rows);
        if (!rows.empty()) self->port_.commit(std::move(rows), nullptr);
        if (!self->dirty_runs_.empty() && !self->rows_timer_) {
            self->rows_timer_ = true;
            self->port_.after(rows_tick_ms, [weak] {
                if (auto again = weak.lock()) {
                    again->rows_timer_ = false;
                    store::write_batch more;
                    again->stage_dirty_rows(SIZE_MAX, more);
                    if (!more.empty()) again->port_.commit(std::move(more), nullptr);
                }
            });
        }
    });
}

void runner::stage_dirty_rows(std::size_t limit, store::write_batch& batch) {
    for (auto it = dirty_runs_.begin(); it != dirty_runs_.end() && limit > 0; --limit) {
        if (auto* r = find_live(*it)) batch.runs.emplace_back(r->rec);
        it = dirty_runs_.erase(it);
    }
}

// The row of an ended run is durable: it may leave memory once enough newer runs ended.
void runner::row_committed(const std::string& id, std::int64_t version) {
    finished_.emplace_back(id, version);
    if (finished_.size() > opts_.keep_finished) prune();
}

void runner::prune() {
    while (finished_.size() > opts_.keep_finished) {
        auto [id, version] = finished_.front();
        finished_.pop_front();
        auto it = runs_.find(id);
        if (it == runs_.end() || it->second.rec.version != version || !core::is_terminal(it->second.rec.state)) continue;
        if (!it->second.feed_waiters.empty() || !it->second.end_waiters.empty()) continue;
        const auto& rec = it->second.rec;
        for (const auto& [path, s] : rec.steps)
            for (const auto& job : s.job_ids) jobs_.erase(job);
        ++pruned_counts_[std::string(core::to_string(rec.state))];
        runs_.erase(it);
    }
}

runner::live_run& runner::fold_into(const std::string& id, const core::event& e) {
    auto& r = runs_[id];
    core::apply(r.rec, e);
    if (e.type == core::run_event::started) {
        auto& def = definitions_[r.rec.source];
        if (!def) def = parse_definition(r.rec.source, r.rec.file);
        r.wf = def;  // the step order comes with run.started, so replay rebuilds the same record
    }
    on_applied(r, e);
    return r;
}

runner::live_run* runner::load_from_log(const std::string& id) {
    const auto events = port_.stream_events(core::run_stream(id));
    live_run* r = nullptr;
    try {
        for (const auto& e : events) r = &fold_into(id, e);
    } catch (const std::exception& err) {
        runner_log("run " + id + ": its events do not fold (" + err.what() + ")");
        r = nullptr;
    }
    definitions_.clear();
    if (r && r->wf) return r;
    runs_.erase(id);
    return nullptr;
}

runner::live_run* runner::find_or_load(const std::string& id) {
    if (auto* r = find_live(id)) return r;
    auto* r = load_from_log(id);
    if (!r) return nullptr;
    if (!core::is_terminal(r->rec.state)) {  // a live run is always in memory: this one is damaged
        runs_.erase(id);
        return nullptr;
    }
    auto counted = pruned_counts_.find(std::string(core::to_string(r->rec.state)));
    if (counted != pruned_counts_.end() && counted->second > 0) --counted->second;  // counted in memory again
    r->prunable = true;
    row_committed(id, r->rec.version);
    return r;
}

void runner::drop_run(const std::string& id) {
    auto it = runs_.find(id);
    if (it == runs_.end()) return;
    auto r = std::move(it->second);
    runs_.erase(it);
    dirty_runs_.erase(id);
    for (auto j = jobs_.begin(); j != jobs_.end();) j = j->second.run == id ? jobs_.erase(j) : std::next(j);
    for (auto& w : r.feed_waiters) w.reply(200, feed_reply(r, w.after));
    for (auto& w : r.end_waiters) w.reply(200, core::to_json(r.rec));
}

std::optional<core::json> runner::foreign_record(const std::string& id) {
    if (auto* r = find_live(id)) return core::to_json(r->rec);
    if (auto* r = load_from_log(id)) {
        auto out = core::to_json(r->rec);
        drop_run(id);  // another hub drives it: not kept here
        return out;
    }
    return port_.stored_run(id);
}

std::vector<std::string> runner::restore(const core::hub_snapshot& s) {
    std::vector<std::string> streams{"workflow-"};
    for (const auto& id : s.live_runs) streams.push_back(core::run_stream(id));
    // Runs that ended before the snapshot stay in the `runs` table; only their count comes back.
    for (const auto& [state, n] : s.run_counts) {
        const auto st = core::parse_run_state(state);
        if (st && core::is_terminal(*st)) pruned_counts_[state] += n;
    }
    for (const auto& k : s.keys)
        if (k.kind == "run") idempotency_[k.key] = k.id;
    return streams;
}

void runner::snapshot(core::hub_snapshot& s, store::write_batch& batch) {
    stage_dirty_rows(SIZE_MAX, batch);
    std::map<std::string, std::int64_t> counts = pruned_counts_;
    for (const auto& [id, r] : runs_) {
        ++counts[std::string(core::to_string(r.rec.state))];
        if (!core::is_terminal(r.rec.state)) s.live_runs.push_back(id);
    }
    for (auto it = counts.begin(); it != counts.end();) it = it->second == 0 ? counts.erase(it) : std::next(it);
    s.run_counts = std::move(counts);
    for (const auto& [key, id] : idempotency_) s.keys.push_back({"run", key, id, 0});
}

}  // namespace orbitmesh::engine
