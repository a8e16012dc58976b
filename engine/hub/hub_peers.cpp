// Several active hubs on one store (`serve --shared-store`, SPEC §10). Each hub keeps its own
// memory and folds what the others append (store::shared_log hands their events here); the
// store's fence decides every race in the database (a second assignment of an attempt, a stale
// or second result), and a hub whose append was refused reloads the job from the log and treats
// it as someone else's. A hub silent for 3 s is dead: the jobs on its agents that did not move
// here or elsewhere are reclaimed by the usual --reassign-after rules.
#include "core/agent_machine.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "core/run_events.hpp"
#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::int64_t dead_after_ms = 3000;  // three missed 1 s heartbeats
/// How long a claim on another hub's pending job holds (store::event_store::claim_jobs): the
/// claimant assigns it at once; should it die first, the job is free again after this.
constexpr std::int64_t claim_ms = 5000;
/// How long another hub's new job waits before this hub competes for it: the hub it was submitted
/// to dispatches it at once when it can, and racing it for every job mostly loses (a refused
/// assignment and a reload each). A job only this hub's agents can run starts this much later.
constexpr std::int64_t foreign_grace_ms = 100;

bool in_flight(const core::job_record& j) {
    return j.state == core::job_state::assigned || j.state == core::job_state::running;
}

}  // namespace

void hub::on_foreign_events(std::vector<core::event> events) {
    post([self = shared_from_this(), events = std::move(events)] {
        if (self->stopping_) return;
        for (const auto& e : events)
            guarded([&] { self->fold_foreign(e); },
                    [&] { return "folding event " + std::to_string(e.seq) + " (" + e.type + ") of another hub"; });
        // The log grew by other hubs' commits: the event stream shows them now, not on its next tick.
        if (!events.empty())
            for (auto& l : self->commit_listeners_) guarded(l, [] { return "a commit listener"; });
        self->schedule_dispatch();
    });
}

void hub::on_foreign_logs(std::vector<std::string> job_ids, bool all) {
    post([self = shared_from_this(), job_ids = std::move(job_ids), all]() mutable {
        if (self->stopping_) return;
        if (all) job_ids = self->log_waiters_.keys();
        // Read from the store: the lines are in job_logs, committed before the notice.
        for (const auto& id : job_ids)
            guarded([&] { self->notify_logs(id); }, [&] { return "waking the output readers of job " + id; });
    });
}

void hub::fold_foreign(const core::event& e) {
    if (e.data.is_discarded()) {
        hub_log("shared store: skipped event " + std::to_string(e.seq) + " of " + e.stream + ": unreadable data");
        return;
    }
    if (e.stream.rfind("agent-", 0) == 0) return fold_foreign_agent(e);
    if (e.stream.rfind("twin-", 0) == 0) return fold_twin(e);
    if (e.stream.rfind("job-", 0) != 0) {  // runs are driven by the hub that started them
        if (e.stream.rfind("workflow-", 0) == 0 || e.stream.rfind("trigger-", 0) == 0 || e.stream.rfind("run-", 0) == 0)
            for (auto& o : observers_) o->foreign_event(e);
        return;
    }
    auto id = e.stream.substr(4);
    auto* job = find_job(id);
    if (!job) {
        if (e.type != core::job_event::submitted) return;  // a job this hub never held: its row answers
        core::job_record fresh;
        core::apply(fresh, e);
        keep_foreign(id, std::move(fresh));
        return queue_foreign_after(id, foreign_grace_ms);  // then dispatchable here when an agent matches
    }
    const core::job_record before = *job;
    try {
        core::apply(*job, e);  // all or nothing
    } catch (const core::error&) {
        // Memory and the log disagree (this hub's own append raced it): the log is the truth.
        return reload_job(id);
    }
    adopt(before, *job);
}

void hub::keep_foreign(const std::string& id, core::job_record job) {
    ++total_jobs_;
    ++state_counts_[static_cast<std::size_t>(job.state)];
    auto& j = jobs_.emplace(id, std::move(job)).first->second;
    if (!j.spec.idempotency_key.empty()) idempotency_[j.spec.idempotency_key] = {id, j.created_ms};
}

void hub::queue_foreign_after(const std::string& id, std::int64_t delay_ms) {
    deadlines_->after(delay_ms, [this, id] {
        auto* k = find_job(id);
        if (!k || k->state != core::job_state::pending) return;
        foreign_pending_.insert(id);
        dispatcher_.enqueue(*k);
        schedule_dispatch();
    });
}

void hub::fold_foreign_agent(const core::event& e) {
    const auto id = e.stream.substr(6);
    auto& slot = agents_[id];
    if (!slot) {
        slot = std::make_unique<agent_entry>();
        slot->rec.id = id;
    }
    auto& a = *slot;
    a.version = std::max(a.version, e.version);
    const bool connected = e.type == core::agent_event::connected;
    const auto where = e.data.value("hub", std::string{});
    if (connected) agent_hub_[id] = where;
    else if (auto it = agent_hub_.find(id); it != agent_hub_.end() && it->second == where) agent_hub_.erase(it);
    if (a.peer) return;  // connected here: this hub's view of it wins
    auto info = e.data;
    info["id"] = id;
    info["state"] = connected ? "connected" : "disconnected";
    auto rec = core::agent_record_from_json(info);
    rec.running = a.rec.running;
    a.rec = std::move(rec);
    a.stream_state = connected ? core::agent_state::connected : core::agent_state::disconnected;
}

core::job_record hub::job_from_log(const std::string& id) {
    core::job_record fresh;
    store_.for_each_event(
        [&](const core::event& e) {
            try {
                core::apply(fresh, e);
            } catch (const std::exception& err) {
                hub_log("shared store: job " + id + ": skipped event " + std::to_string(e.seq) + ": " + err.what());
            }
        },
        0, core::job_stream(id));
    return fresh;
}

void hub::reload_job(const std::string& id) {
    auto* job = find_job(id);
    if (!job) return;
    core::job_record fresh = job_from_log(id);
    if (fresh.version == 0) return forget_job(id);  // its submission was refused: it never existed
    fresh.progress_percent = job->progress_percent;
    fresh.progress_message = job->progress_message;
    const core::job_record before = *job;
    *job = std::move(fresh);
    adopt(before, *job);
}

void hub::adopt(const core::job_record& before, core::job_record& job) {
    const auto& id = job.id;
    --state_counts_[static_cast<std::size_t>(before.state)];
    ++state_counts_[static_cast<std::size_t>(job.state)];
    // Pending by the log's hand (another hub's requeue or retry, or a reload): claimed before it
    // is assigned here.
    if (job.state == core::job_state::pending) {
        dispatcher_.enqueue(job);
        foreign_pending_.insert(id);
    } else {
        dispatcher_.remove(id);
        foreign_pending_.erase(id);
    }
    const bool same_attempt = in_flight(job) && job.agent_id == before.agent_id && job.attempt == before.attempt;
    if (in_flight(before) && !same_attempt) release_slot(before.agent_id, id);
    auto here = agents_.find(job.agent_id);
    const bool local = in_flight(job) && here != agents_.end() && here->second->peer;
    if (local) {
        here->second->jobs.insert(id);
        here->second->rec.running = static_cast<int>(here->second->jobs.size());
    }
    // A cancellation requested on another hub reaches the agent connected here.
    if (local && job.cancel_requested && !before.cancel_requested)
        send_cancel(id, job.attempt, "cancelled by request (on another hub)");
    if (core::is_terminal(job.state) && !core::is_terminal(before.state)) {
        job_ended(id, true);
        rows_committed({{id, job.version}});  // the hub that ended it writes its row; memory may let it go
    }
}

void hub::forget_job(const std::string& id) {
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return;
    const auto& job = it->second;
    --state_counts_[static_cast<std::size_t>(job.state)];
    --total_jobs_;
    dispatcher_.remove(id);
    unassigned_.erase(id);
    foreign_pending_.erase(id);
    if (in_flight(job)) release_slot(job.agent_id, id);
    jobs_.erase(it);
}

void hub::take_holder(const std::string& phantom, const std::string& holder) {
    auto* job = find_job(phantom);
    if (!job) return;
    const auto key = job->spec.idempotency_key;
    forget_job(phantom);
    superseded_[phantom] = holder;
    if (!find_job(holder))  // committed with the key row, perhaps not folded here yet
        if (auto fresh = job_from_log(holder); fresh.version > 0) {
            keep_foreign(holder, std::move(fresh));
            queue_foreign_after(holder, 0);
        }
    if (auto* h = find_job(holder); h && !key.empty()) idempotency_[key] = {holder, h->created_ms};
    hub_log(core::log::level::info, "shared store: idempotency key \"" + key + "\" names job " + holder +
                                        " of another hub; job " + phantom + " was not created",
            {{"job_id", holder}});
}

void hub::claim_foreign(std::vector<assignment_choice>& choices) {
    std::vector<std::string> wanted;
    for (const auto& c : choices)
        if (foreign_pending_.count(c.job_id)) wanted.push_back(c.job_id);
    if (wanted.empty()) return;
    std::vector<std::string> got;
    try {
        got = store_.claim_jobs(wanted, opts_.hub_id, claim_ms);
    } catch (const std::exception& e) {
        hub_log(core::log::level::warn, std::string("shared store: could not claim jobs: ") + e.what(), {});
    }
    const std::unordered_set<std::string> claimed(got.begin(), got.end());
    claims_won_ += claimed.size();
    claims_lost_ += wanted.size() - claimed.size();
    std::unordered_set<std::string> lost;
    for (const auto& id : wanted) {
        foreign_pending_.erase(id);
        if (claimed.count(id)) continue;
        // Another hub claimed it (or is claiming it right now): out of this queue; back in once
        // the claim could have run out, if the job is still pending then.
        lost.insert(id);
        dispatcher_.remove(id);
        queue_foreign_after(id, claim_ms + 100);
    }
    std::erase_if(choices, [&](const assignment_choice& c) { return lost.count(c.job_id) != 0; });
}

void hub::handle_refused(const std::vector<store::refused_event>& refused) {
    refused_events_ += refused.size();
    std::set<std::string> stale;
    for (const auto& r : refused) {
        if (r.stream.rfind("run-", 0) == 0) {
            for (auto& o : observers_)
                guarded([&] { o->run_refused(r.stream.substr(4), r); }, [&] { return "a refused event of " + r.stream; });
            continue;
        }
        if (r.stream.rfind("job-", 0) != 0) continue;
        auto id = r.stream.substr(4);
        if (r.type == core::job_event::submitted && !r.holder.empty()) {
            take_holder(id, r.holder);
            continue;
        }
        auto* job = find_job(id);
        auto was = unassigned_.find(id);
        auto mine = job ? agents_.find(job->agent_id) : agents_.end();
        const bool still_ours = job && job->state == core::job_state::assigned && mine != agents_.end() &&
                                mine->second->peer;  // not yet replaced by the log's version
        if (still_ours && r.type == core::job_event::assigned && was != unassigned_.end()) {
            // Lost the race for a queued job (the common case): back to how it was, out of this
            // hub's queue; the winner's assignment arrives through the follower. No reload.
            const core::job_record before = *job;
            *job = std::move(was->second);
            unassigned_.erase(was);
            adopt(before, *job);
            dispatcher_.remove(id);
            continue;
        }
        hub_log(core::log::level::info, "shared store: another hub got there first: " + r.type + " of " + r.stream +
                                            " refused (" + r.reason + ")",
                {{"job_id", id}});
        stale.insert(std::move(id));
    }
    for (const auto& id : stale) reload_job(id);
    schedule_dispatch();
}

bool hub::agent_elsewhere(const std::string& agent_id) const {
    if (!opts_.shared_store) return false;
    auto it = agent_hub_.find(agent_id);
    if (it == agent_hub_.end() || it->second.empty() || it->second == opts_.hub_id) return false;
    auto h = hub_age_.find(it->second);
    return h != hub_age_.end() && h->second <= dead_after_ms;
}

void hub::send_cancel(const std::string& job_id, int attempt, const std::string& why) {
    auto* j = find_job(job_id);
    if (!j) return;
    auto it = agents_.find(j->agent_id);
    const bool reachable = it != agents_.end() && it->second->peer;
    if (reachable)
        it->second->peer->send({{"t", core::protocol::msg::cancel}, {"job_id", job_id}, {"attempt", attempt},
                                {"reason", why}, {"grace_ms", opts_.cancel_grace_ms}});
    else if (agent_elsewhere(j->agent_id))
        return;  // the hub it is connected to sends it the cancel and ends the job
    // If the agent never confirms (or is gone), the hub ends the job itself.
    deadlines_->after(reachable ? opts_.cancel_grace_ms + 5000 : 0, [this, job_id, attempt] {
        auto* k = find_job(job_id);
        if (!attempt_fence(attempt).admits(k)) return;
        store::write_batch b;
        finish_job(*k, core::job_state::cancelled, {{"error", "cancelled; the agent did not confirm before the grace period ended"}}, b);
        persist(std::move(b), [this, job_id] { job_ended(job_id); });
    });
}

void hub::take_over_runs(const std::string& dead_hub) {
    std::vector<std::string> runs;
    try {
        runs = store_.claim_runs_of(dead_hub, opts_.hub_id);  // the database gives each run to one hub
    } catch (const std::exception& e) {
        hub_log(core::log::level::error, "shared store: could not take over the runs of hub " + dead_hub + ": " + e.what(), {});
        return;
    }
    for (const auto& id : runs) {
        runs_elsewhere_.erase(core::run_stream(id));
        for (auto& o : observers_)
            guarded([&] { o->adopt_run(id); }, [&] { return "taking over run " + id; });
    }
    if (!runs.empty())
        hub_log(core::log::level::info,
                "shared store: drives " + std::to_string(runs.size()) + " unfinished runs of hub " + dead_hub + " now", {});
}

void hub::on_peer_hubs(std::vector<store::peer_hub> hubs) {
    post([self = shared_from_this(), hubs = std::move(hubs)] {
        if (self->stopping_) return;
        for (const auto& h : hubs) {
            self->hub_age_[h.id] = h.age_ms;
            if (h.id == self->opts_.hub_id) continue;
            if (h.age_ms <= dead_after_ms) {
                self->dead_hubs_.erase(h.id);
            } else if (self->dead_hubs_.insert(h.id).second) {
                hub_log(core::log::level::warn,
                        "shared store: hub " + h.id + " (" + h.address + ") has not beaten for " +
                            std::to_string(h.age_ms) + " ms; jobs on its agents are reclaimed after --reassign-after",
                        {});
                self->take_over_runs(h.id);
            }
        }
        if (self->dead_hubs_.empty()) return;
        for (const auto& [id, job] : self->jobs_) {
            if (!in_flight(job)) continue;
            auto where = self->agent_hub_.find(job.agent_id);
            if (where == self->agent_hub_.end() || !self->dead_hubs_.count(where->second)) continue;
            auto a = self->agents_.find(job.agent_id);
            if (a != self->agents_.end() && a->second->peer) continue;  // it moved here
            if (!self->reclaim_armed_.emplace(id, job.attempt).second) continue;
            self->deadlines_->after(self->opts_.reassign_after_ms,
                                    [self, id = id, attempt = job.attempt, agent = job.agent_id] {
                                        self->reclaim_armed_.erase({id, attempt});
                                        self->reclaim(id, attempt, agent);
                                    });
        }
    });
}

}  // namespace orbitmesh::engine
