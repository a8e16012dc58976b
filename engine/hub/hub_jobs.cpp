// Client-facing job operations: submit, get/wait, list, cancel, retry, logs.
#include <algorithm>

#include "core/clock.hpp"
#include "core/ids.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "core/retry_delay.hpp"
#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

core::error not_found(const std::string& id) {
    return core::error(core::error_kind::not_found, "job " + id + " not found (list jobs with `orbitmesh job list`)");
}

}  // namespace

void hub::submit(std::vector<core::job_spec> specs, submit_reply request, bool summaries) {
    on_strand("submit", std::move(request),
              [self = shared_from_this(), specs = std::move(specs), summaries](submit_reply& reply) mutable {
                  self->submit_on_strand(specs, reply, summaries);
              });
}

void hub::submit_on_strand(std::vector<core::job_spec>& specs, submit_reply& reply, bool summaries) {
    if (stopping_) {
        reply({{}, core::error(core::error_kind::unavailable, "the hub is shutting down; submit again shortly")}, false);
        return;
    }
    if (dispatcher_.size() + specs.size() > opts_.max_pending) {
        reply({{}, core::error(core::error_kind::queue_full,
                               "queue full: " + std::to_string(dispatcher_.size()) + " jobs pending (serve --max-pending " +
                                   std::to_string(opts_.max_pending) + "); retry later")},
              false);
        return;
    }
    for (const auto& spec : specs) check_secrets(spec);  // before any job exists: all or nothing
    store::write_batch batch;
    auto ids = std::make_shared<std::vector<std::string>>();
    std::size_t created = 0;
    std::int64_t now = clock_.now_ms();
    for (auto& spec : specs) {
        if (!spec.idempotency_key.empty()) {
            auto it = idempotency_.find(spec.idempotency_key);
            if (it != idempotency_.end() && now - it->second.second < opts_.idempotency_window_ms &&
                find_job(it->second.first) != nullptr) {  // also a job that ended and left memory
                ids->push_back(it->second.first);
                continue;
            }
        }
        auto id = create_job(spec, batch);
        if (!spec.idempotency_key.empty()) idempotency_[spec.idempotency_key] = {id, now};
        ids->push_back(id);
        ++created;
    }
    // Reply only after commit; an idempotent repeat also waits, so it never returns a job whose
    // first event is still in flight.
    persist(std::move(batch), [this, ids, created, summaries, reply = std::move(reply)] {
        core::json out = core::json::array();
        std::size_t taken = 0;
        for (auto id : *ids) {
            // Shared store: another hub's job held the key first; it is the answer (200).
            if (auto s = superseded_.find(id); s != superseded_.end()) id = s->second, ++taken;
            auto* job = find_job(id);
            if (!job) continue;
            out.push_back(summaries ? core::json{{"id", id},
                                                 {"state", core::to_string(job->state)},
                                                 {"idempotency_key", job->spec.idempotency_key}}
                                    : core::to_json(*job));
        }
        reply({std::move(out), std::nullopt}, created > taken);
    });
    schedule_dispatch();
}

void hub::get_job(const std::string& id, std::int64_t wait_ms, job_reply request) {
    on_strand("get_job", std::move(request), [self = shared_from_this(), id, wait_ms](job_reply& reply) {
        auto* job = self->find_job(id);
        if (!job) return reply({{}, not_found(id)});
        if (wait_ms <= 0 || core::is_terminal(job->state) || self->stopping_)
            return reply({self->job_json(*job), std::nullopt});
        hold(self->job_waiters_, *self->deadlines_, id, job_waiter{std::move(reply)}, wait_ms, [self, id](job_waiter w) {
            if (auto* j = self->find_job(id)) w.reply({self->job_json(*j), std::nullopt});
        });
    });
}

void hub::list_jobs(job_query query, job_reply request) {
    on_strand("list_jobs", std::move(request), [self = shared_from_this(), q = std::move(query)](job_reply& reply) {
        const auto wanted = core::parse_job_state(q.state);
        if (!q.state.empty() && !wanted)
            return reply({{}, core::error(core::error_kind::invalid_input,
                                          "unknown job state \"" + q.state +
                                              "\" (use pending, assigned, running, succeeded, failed, cancelled, "
                                              "timed_out or dead)")});
        auto out = self->list_jobs_json(q, wanted);
        reply({core::json{{"jobs", std::move(out)}}, std::nullopt});
    });
}

void hub::stats(job_reply request) {
    on_strand("stats", std::move(request), [self = shared_from_this()](job_reply& reply) {
        core::json jobs = core::json::object();
        for (std::size_t i = 0; i < core::job_state_count; ++i)
            jobs[std::string(core::to_string(static_cast<core::job_state>(i)))] = self->state_counts_[i];
        jobs["total"] = self->total_jobs_;
        std::size_t connected = 0;
        for (const auto& [id, a] : self->agents_) connected += a->peer ? 1 : 0;
        const auto st = self->store_.stats();
        core::json out{{"jobs", std::move(jobs)},
                       {"queue_depth", self->dispatcher_.size()},
                       {"agents", {{"connected", connected}, {"total", self->agents_.size()}}},
                       {"store", {{"commits", st.commits},
                                  {"events", st.events},
                                  {"rows", st.rows},
                                  {"commit_seconds", static_cast<double>(st.commit_micros) / 1e6}}},
                       {"held", {{"job_waits", self->job_waiters_.size()},
                                 {"log_waits", self->log_waiters_.size()},
                                 {"invokes", self->calls_.size()}}},
                       {"dispatch_latency_ms", self->dispatch_latency_.to_json()},
                       {"job_duration_ms", self->job_duration_.to_json()}};
        if (self->opts_.shared_store)
            out["shared_store"] = {{"hub_id", self->opts_.hub_id},
                                   {"claims_won", self->claims_won_},
                                   {"claims_lost", self->claims_lost_},
                                   {"refused_events", self->refused_events_}};
        for (const auto& o : self->observers_) o->add_stats(out);
        reply({std::move(out), std::nullopt});
    });
}

void hub::workflow_run_counts(job_reply request) {
    on_strand("workflow_run_counts", std::move(request), [self = shared_from_this()](job_reply& reply) {
        core::json out = core::json::object();
        for (const auto& [key, n] : self->store_.count_runs_by_workflow()) out[key.first][key.second] = n;
        reply({std::move(out), std::nullopt});
    });
}

void hub::cancel_job(const std::string& id, std::string reason, job_reply request) {
    on_strand("cancel_job", std::move(request), [self = shared_from_this(), id, reason = std::move(reason)](job_reply& reply) {
        auto* job = self->find_job(id);
        if (!job) return reply({{}, not_found(id)});
        if (core::is_terminal(job->state))
            return reply({{}, core::error(core::error_kind::conflict, "job " + id + " already ended (" +
                                                                          std::string(core::to_string(job->state)) +
                                                                          "); nothing to cancel")});
        self->begin_cancel(*job, reason.empty() ? "cancelled by request" : "cancelled: " + reason, [self, id, reply] {
            if (auto* j = self->find_job(id)) reply({core::to_json(*j), std::nullopt});
        });
    });
}

void hub::cancel_job(const std::string& job_id, const std::string& reason) {
    auto* job = find_job(job_id);
    if (job && !core::is_terminal(job->state)) begin_cancel(*job, reason, nullptr);
}

void hub::begin_cancel(core::job_record& job, const std::string& why, std::function<void()> done) {
    store::write_batch batch;
    if (job.state == core::job_state::pending) {
        dispatcher_.remove(job.id);
        finish_job(job, core::job_state::cancelled, {{"error", why}}, batch);
    } else if (!job.cancel_requested) {
        record(job, core::job_event::cancel_requested, {{"reason", why}}, batch);
    }
    persist(std::move(batch), [this, id = job.id, attempt = job.attempt, why, done = std::move(done)] {
        auto* j = find_job(id);
        if (!j) return;
        if (core::is_terminal(j->state)) job_ended(id);
        else send_cancel(id, attempt, why);  // hub_peers.cpp
        if (done) done();
    });
}

void hub::retry_job(const std::string& id, job_reply request) {
    on_strand("retry_job", std::move(request), [self = shared_from_this(), id](job_reply& reply) {
        auto* job = self->find_job(id);
        if (!job) return reply({{}, not_found(id)});
        if (!core::is_terminal(job->state) || job->state == core::job_state::succeeded)
            return reply({{}, core::error(core::error_kind::conflict,
                                          "job " + id + " is " + std::string(core::to_string(job->state)) +
                                              "; only dead, failed, timed_out or cancelled jobs can be retried")});
        store::write_batch batch;
        self->record(*job, core::job_event::retried, core::json::object(), batch);
        self->dispatcher_.enqueue(*job);
        self->persist(std::move(batch), [self, id, reply] {
            if (auto* j = self->find_job(id)) reply({core::to_json(*j), std::nullopt});
        });
        self->schedule_dispatch();
    });
}

namespace {

/// The data of an event that records an attempt's outcome (finished, retry_scheduled, dead).
core::json outcome_data(const core::job_record& job, const core::json& result) {
    return {{"attempt", job.attempt},
            {"exit_code", result.value("exit_code", core::json())},
            {"output", result.value("output", core::json())},
            {"error", result.value("error", std::string{})}};
}

}  // namespace

void hub::finish_job(core::job_record& job, core::job_state state, const core::json& result, store::write_batch& batch) {
    std::string agent = job.agent_id;
    auto data = outcome_data(job, result);
    data["state"] = core::to_string(state);
    record(job, core::job_event::finished, std::move(data), batch);
    if (!agent.empty()) release_slot(agent, job.id);
}

void hub::settle_failure(core::job_record& job, core::job_state state, const core::json& result,
                         store::write_batch& batch) {
    const auto& r = job.spec.retries;
    auto data = outcome_data(job, result);
    std::string agent = job.agent_id;
    if (job.retries_used < r.max && !job.cancel_requested) {
        const std::int64_t delay =
            core::retry_delay_ms(core::backoff_kind::exponential, r.backoff_ms, r.max_delay_ms, job.retries_used + 1);
        data["not_before"] = clock_.now_ms() + delay;
        record(job, core::job_event::retry_scheduled, std::move(data), batch);
        if (!agent.empty()) release_slot(agent, job.id);
        dispatcher_.enqueue(job);
        deadlines_->after(delay, [this] { schedule_dispatch(); });
    } else if (r.max > 0) {
        record(job, core::job_event::dead, std::move(data), batch);
        if (!agent.empty()) release_slot(agent, job.id);
    } else {
        finish_job(job, state, result, batch);
    }
}

void hub::end_if_terminal(const std::string& job_id) {
    if (auto* job = find_job(job_id); job && core::is_terminal(job->state)) job_ended(job_id);
}

void hub::job_ended(const std::string& job_id, bool foreign) {
    job_masks_.erase(job_id);
    if (auto* job = find_job(job_id); job && job_waiters_.contains(job_id))
        for (auto& w : job_waiters_.take_all(job_id)) w.reply({core::to_json(*job), std::nullopt});
    notify_logs(job_id);
    if (auto* job = find_job(job_id))
        for (auto& o : observers_) foreign ? o->foreign_job_ended(*job) : o->job_ended(*job);
    // Keep the live output of a finished job a little while for late `logs -f` readers, then let
    // the store serve it.
    deadlines_->after(60'000, [this, job_id] {
        auto it = jobs_.find(job_id);  // not find_job: a job that left memory has nothing here either
        if (it == jobs_.end() || core::is_terminal(it->second.state)) {
            recent_logs_.erase(job_id);
            log_seq_.erase(job_id);
            agent_seq_.erase(job_id);
        }
    });
}

}  // namespace orbitmesh::engine
