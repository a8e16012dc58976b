// Starting from a snapshot: the live state at seq S comes from the `snapshots` table, the
// streams the observers ask for are folded up to S, and recover() folds only the events after S.
#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/snapshot.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

bool ends_with_dash(const std::string& s) { return !s.empty() && s.back() == '-'; }

}  // namespace

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
    for (auto& o : observers_) {
        for (const auto& stream : o->restore(snap)) {
            auto upto = [&](const core::event& e) {
                if (e.seq <= snap.seq) o->replay(e);
            };
            if (ends_with_dash(stream)) store_.for_each_event_with_prefix(upto, stream);
            else store_.for_each_event(upto, 0, stream);
        }
    }
    hub_log("recovery: snapshot at seq " + std::to_string(snap.seq) + ": " + std::to_string(snap.jobs.size()) +
            " live jobs, " + std::to_string(total_jobs_) + " jobs in all, " + std::to_string(snap.agents.size()) + " agents");
    return snap.seq;
}

void hub::recover_job_event(const core::event& e, std::size_t& skipped) {
    const std::string id = e.stream.substr(4);
    // A job that ended before the snapshot is not in memory: a later event (job retry) reads
    // its row first. A first event never needs the lookup.
    core::job_record* job = e.version > 1 ? find_job(id) : nullptr;
    const bool fresh = job == nullptr;
    if (fresh) job = &jobs_[id];
    const bool is_new = job->version == 0;
    const auto before = job->state;
    try {
        core::apply(*job, e);
    } catch (const core::error& err) {
        ++skipped;
        hub_log("recovery: skipped event " + std::to_string(e.seq) + ": " + err.what());
        if (is_new) jobs_.erase(id);
        return;
    }
    if (is_new) {
        ++total_jobs_;
    } else {
        --state_counts_[static_cast<std::size_t>(before)];
    }
    ++state_counts_[static_cast<std::size_t>(job->state)];
}

}  // namespace orbitmesh::engine
