// Start-up: the hub's state is the fold of the event log (docs/architecture.md, "Hub restart").
// With a snapshot, the live state at its seq S comes from the `snapshots` table, the streams the
// observers ask for are folded up to S, and only the events after S are folded. An event that
// does not decode or apply is logged with its seq and skipped, never guessed at.
#include <algorithm>

#include "core/agent_machine.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/snapshot.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::size_t max_skip_lines = 100;  // a damaged log must not flood stderr; the count says the rest

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool ends_with_dash(const std::string& s) { return !s.empty() && s.back() == '-'; }

}  // namespace

void hub::recover() {
    const std::int64_t from = restore_snapshot();
    folded_seq_ = from;
    // Shared store: the hub that started a run drives it; this one must not resume it too.
    if (opts_.shared_store)
        for (auto& s : store_.streams_begun_elsewhere("run-", opts_.hub_id)) runs_elsewhere_.insert(std::move(s));
    std::size_t events = 0, skipped = 0;
    store_.for_each_event([&](const core::event& e) {
        ++events;
        folded_seq_ = e.seq;
        try {
            fold_event(e);
        } catch (const std::exception& err) {
            keep_version(e);
            if (++skipped <= max_skip_lines)
                hub_log("recovery: skipped event " + std::to_string(e.seq) + " (" + e.type + " of " + e.stream +
                        "): " + err.what());
        }
    }, from);
    auto [pending, in_flight] = resume_recovered_jobs();
    rewrite_lagging_rows();
    hub_log("recovered " + std::to_string(jobs_.size()) + " jobs in memory (" + std::to_string(pending) + " pending, " +
            std::to_string(in_flight) + " in flight, " + std::to_string(total_jobs_) + " in all) and " +
            std::to_string(agents_.size()) + " agents from " + std::to_string(events) + " events" +
            (from > 0 ? " after the snapshot at seq " + std::to_string(from) : "") +
            (skipped ? ", " + std::to_string(skipped) + " skipped" : ""));
    post([self = shared_from_this()] {
        for (auto& o : self->observers_) o->recovered();
        self->periodic_check();
        self->schedule_dispatch();
    });
}

std::int64_t hub::restore_snapshot() {
    std::optional<store::snapshot_blob> blob;
    core::hub_snapshot snap;
    try {
        blob = store_.load_snapshot();
        if (!blob) return 0;
        snap = core::decode_snapshot(blob->data, blob->format, blob->seq);
    } catch (const std::exception& e) {
        hub_log(std::string("recovery: the newest snapshot is not usable (") + e.what() + "); folding the whole log");
        return 0;
    }
    for (auto& j : snap.jobs) {
        auto id = j.id;
        jobs_.emplace(std::move(id), std::move(j));
    }
    for (std::size_t i = 0; i < core::job_state_count; ++i) {
        state_counts_[i] = static_cast<std::size_t>(snap.job_counts[i]);
        total_jobs_ += state_counts_[i];
    }
    pruned_jobs_ = total_jobs_ - jobs_.size();  // ended before the snapshot: their rows answer
    for (auto& a : snap.agents) {
        auto& slot = agents_[a.record.id];
        if (!slot) slot = std::make_unique<agent_entry>();
        slot->rec = std::move(a.record);
        slot->rec.state = core::agent_state::disconnected;
        slot->version = a.events;
        slot->stream_state = a.connected ? core::agent_state::connected : core::agent_state::disconnected;
    }
    for (const auto& k : snap.keys)
        if (k.kind == "job") idempotency_[k.key] = {k.id, k.created_ms};
    // Twins are not in the snapshot: their streams are folded again up to it (the tail follows).
    store_.for_each_event_in("twin-", [&](const core::event& e) {
        if (e.seq <= snap.seq) fold_twin(e);
    });
    for (auto& o : observers_) {
        for (const auto& stream : o->restore(snap)) {
            auto upto = [&](const core::event& e) {
                if (e.seq <= snap.seq) o->replay(e);
            };
            if (ends_with_dash(stream)) store_.for_each_event_in(stream, upto);
            else store_.for_each_event(upto, 0, stream);
        }
    }
    hub_log("recovery: snapshot at seq " + std::to_string(snap.seq) + ": " + std::to_string(snap.jobs.size()) +
            " live jobs, " + std::to_string(total_jobs_) + " jobs in all, " + std::to_string(snap.agents.size()) + " agents");
    return snap.seq;
}

void hub::fold_event(const core::event& e) {
    if (e.data.is_discarded()) throw core::error(core::error_kind::storage, "its data is not readable MessagePack");
    if (starts_with(e.stream, "job-")) {
        fold_job_event(e);
    } else if (starts_with(e.stream, "agent-")) {
        auto info = e.data;
        info["id"] = e.stream.substr(6);
        info["state"] = "disconnected";
        auto rec = core::agent_record_from_json(info);  // throws before anything changes
        auto& slot = agents_[rec.id];
        if (!slot) slot = std::make_unique<agent_entry>();
        slot->rec = std::move(rec);
        slot->version = e.version;
        slot->stream_state =
            e.type == core::agent_event::connected ? core::agent_state::connected : core::agent_state::disconnected;
        if (auto where = e.data.find("hub"); where != e.data.end() && where->is_string()) {  // shared store
            if (e.type == core::agent_event::connected) agent_hub_[slot->rec.id] = where->get<std::string>();
            else if (agent_hub_[slot->rec.id] == where->get<std::string>()) agent_hub_.erase(slot->rec.id);
        }
    } else if (starts_with(e.stream, "twin-")) {
        fold_twin(e);  // hub_twin.cpp
    } else if (!runs_elsewhere_.count(e.stream)) {
        for (auto& o : observers_) o->replay(e);
    }
}

void hub::fold_job_event(const core::event& e) {
    auto id = e.stream.substr(4);
    // A job that ended before the snapshot is not in memory: a later event (job retry) reads its
    // row first. A first event never needs the lookup.
    auto it = jobs_.find(id);
    core::job_record* job = it != jobs_.end() ? &it->second : e.version > 1 ? find_job(id) : nullptr;
    if (job) {
        const auto before = job->state;
        core::apply(*job, e);  // all or nothing
        --state_counts_[static_cast<std::size_t>(before)];
        ++state_counts_[static_cast<std::size_t>(job->state)];
        return;
    }
    if (e.type != core::job_event::submitted)
        throw core::error(core::error_kind::conflict, "job " + id + " has no job.submitted event before it");
    core::job_record fresh;
    core::apply(fresh, e);
    ++total_jobs_;
    ++state_counts_[static_cast<std::size_t>(fresh.state)];
    jobs_.emplace(std::move(id), std::move(fresh));
}

/// A skipped event still holds its version of the stream: the hub's next event there must come
/// after it, or the store refuses it as a conflicting append (and the hub stops).
void hub::keep_version(const core::event& e) {
    if (starts_with(e.stream, "job-")) {
        // A job whose job.submitted was skipped is not loaded at all; its id is never used again.
        if (auto it = jobs_.find(e.stream.substr(4)); it != jobs_.end())
            it->second.version = std::max(it->second.version, e.version);
    } else if (starts_with(e.stream, "agent-")) {
        auto& slot = agents_[e.stream.substr(6)];
        if (!slot) slot = std::make_unique<agent_entry>();
        slot->rec.id = e.stream.substr(6);
        slot->version = std::max(slot->version, e.version);
    } else if (starts_with(e.stream, "twin-")) {
        auto& t = twins_[e.stream.substr(5)];
        t.version = std::max(t.version, e.version);
    }
}

std::pair<std::size_t, std::size_t> hub::resume_recovered_jobs() {
    std::size_t pending = 0, in_flight = 0;
    const std::int64_t now = clock_.now_ms();
    for (auto& [id, job] : jobs_) {
        if (!job.spec.idempotency_key.empty() && now - job.created_ms < opts_.idempotency_window_ms)
            idempotency_[job.spec.idempotency_key] = {id, job.created_ms};
        if (job.state == core::job_state::pending) {
            dispatcher_.enqueue(job);
            arm_pending_timeout(job);
            ++pending;
        } else if (job.state == core::job_state::assigned || job.state == core::job_state::running) {
            ++in_flight;
            auto& slot = agents_[job.agent_id];
            if (!slot) {
                slot = std::make_unique<agent_entry>();
                slot->rec.id = job.agent_id;
                slot->rec.name = job.agent_name;
            }
            slot->jobs.insert(id);
            // The hub was down: give the agent reassign_after to come back and claim its work.
            deadlines_->after(opts_.reassign_after_ms,
                             [this, id = id, attempt = job.attempt, agent = job.agent_id] { reclaim(id, attempt, agent); });
        }
    }
    return {pending, in_flight};
}

/// Projection rows are written lazily (hub.hpp): rewrite every row whose version lags its events
/// (a crash, or a store from before rows had versions), with its idempotency key, and every
/// agent's row as disconnected. Jobs that ended may leave memory once their rows are durable.
void hub::rewrite_lagging_rows() {
    store::write_batch batch;
    std::vector<std::pair<std::string, std::int64_t>> ended;
    std::unordered_map<std::string, std::int64_t> stored_versions;
    for (auto& [id, version] : store_.load_job_versions()) stored_versions.emplace(std::move(id), version);
    for (const auto& [id, job] : jobs_) {
        if (core::is_terminal(job.state)) ended.emplace_back(id, job.version);
        auto it = stored_versions.find(id);
        if (it != stored_versions.end() && it->second == job.version) continue;
        batch.jobs.push_back(job);
        if (!job.spec.idempotency_key.empty()) batch.keys.push_back({"job", job.spec.idempotency_key, id, job.created_ms});
    }
    for (auto& [id, a] : agents_) {
        // Shared store: an agent another hub says it has is that hub's to account for.
        if (auto where = agent_hub_.find(id); where != agent_hub_.end() && where->second != opts_.hub_id) continue;
        a->rec.state = core::agent_state::disconnected;
        a->rec.running = static_cast<int>(a->jobs.size());
        // Its connection died with the old hub: say so in its stream, so the events and the row agree.
        if (a->stream_state == core::agent_state::connected)
            record_agent_event(*a, core::agent_event::disconnected, batch, "hub restarted");
        batch.agents.push_back(a->rec);
    }
    dirty_agents_.clear();
    if (batch.empty()) return rows_committed(std::move(ended));
    // Through the strand like every other write, so a failure stops the hub instead of vanishing.
    persist(std::move(batch), [self = shared_from_this(), ended = std::move(ended)]() mutable {
        self->rows_committed(std::move(ended));
    });
}

}  // namespace orbitmesh::engine
