// Start-up: the hub's state is the fold of the event log (docs/architecture.md, "Hub restart").
// An event that does not decode or apply is logged with its seq and skipped, never guessed at.
#include <algorithm>

#include "core/clock.hpp"
#include "core/job_events.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::size_t max_skip_lines = 100;  // a damaged log must not flood stderr; the count says the rest

bool starts_with(const std::string& s, std::string_view prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

}  // namespace

void hub::recover() {
    std::size_t events = 0, skipped = 0;
    store_.for_each_event([&](const core::event& e) {
        ++events;
        try {
            fold_event(e);
        } catch (const std::exception& err) {
            keep_version(e);
            if (++skipped <= max_skip_lines)
                hub_log("recovery: skipped event " + std::to_string(e.seq) + " (" + e.type + " of " + e.stream +
                        "): " + err.what());
        }
    });
    auto [pending, in_flight] = resume_recovered_jobs();
    rewrite_lagging_rows();
    hub_log("recovered " + std::to_string(jobs_.size()) + " jobs (" + std::to_string(pending) + " pending, " +
            std::to_string(in_flight) + " in flight) and " + std::to_string(agents_.size()) + " agents from " +
            std::to_string(events) + " events" + (skipped ? ", " + std::to_string(skipped) + " skipped" : ""));
    post([self = shared_from_this()] {
        for (auto& o : self->observers_) o->recovered();
        self->periodic_check();
        self->schedule_dispatch();
    });
}

void hub::fold_event(const core::event& e) {
    if (e.data.is_discarded()) throw core::error(core::error_kind::storage, "its data is not readable MessagePack");
    if (starts_with(e.stream, "job-")) {
        auto id = e.stream.substr(4);
        if (auto it = jobs_.find(id); it != jobs_.end()) return core::apply(it->second, e);  // all or nothing
        if (e.type != core::job_event::submitted)
            throw core::error(core::error_kind::conflict, "job " + id + " has no job.submitted event before it");
        core::job_record job;
        core::apply(job, e);
        jobs_.emplace(std::move(id), std::move(job));
    } else if (starts_with(e.stream, "agent-")) {
        auto info = e.data;
        info["id"] = e.stream.substr(6);
        info["state"] = "disconnected";
        auto rec = core::agent_record_from_json(info);  // throws before anything changes
        auto& slot = agents_[rec.id];
        if (!slot) slot = std::make_unique<agent_entry>();
        slot->rec = std::move(rec);
        slot->version = e.version;
    } else if (starts_with(e.stream, "twin-")) {
        fold_twin(e);  // hub_twin.cpp
    } else {
        for (auto& o : observers_) o->replay(e);
    }
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
        ++state_counts_[static_cast<std::size_t>(job.state)];
        if (!job.spec.idempotency_key.empty() && now - job.created_ms < opts_.idempotency_window_ms)
            idempotency_[job.spec.idempotency_key] = {id, job.created_ms};
        if (job.state == core::job_state::pending) {
            dispatcher_.enqueue(job);
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

/// Projection rows are written lazily (hub.hpp): rewrite every row whose version lags its events,
/// and every agent's row as disconnected.
void hub::rewrite_lagging_rows() {
    store::write_batch batch;
    std::unordered_map<std::string, std::int64_t> stored_versions;
    for (const auto& row : store_.load_jobs()) stored_versions.emplace(row.id, row.version);
    for (const auto& [id, job] : jobs_) {
        auto it = stored_versions.find(id);
        if (it == stored_versions.end() || it->second != job.version) batch.jobs.push_back(job);
    }
    for (auto& [id, a] : agents_) {
        a->rec.state = core::agent_state::disconnected;
        a->rec.running = static_cast<int>(a->jobs.size());
        batch.agents.push_back(a->rec);
    }
    if (batch.empty()) return;
    // Through the strand like every other write, so a failure stops the hub instead of vanishing.
    persist(std::move(batch), nullptr);
}

}  // namespace orbitmesh::engine
