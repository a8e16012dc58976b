// Results from agents, agent loss, reassignment and the circuit breaker.
#include <algorithm>

#include "core/agent_machine.hpp"
#include "core/clock.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace msg = core::protocol::msg;

void hub::handle_result(agent_entry& a, const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::result& m) {
    const auto& job_id = m.job_id;
    int attempt = m.attempt;
    auto* job = find_job(job_id);
    core::json ack = {{"t", msg::result_ack}, {"job_id", job_id}, {"attempt", attempt}};
    if (!attempt_fence(attempt, a.rec.id).admits(job)) {
        // Already recorded (a resend from the outbox after a lost result_ack) or a stale attempt:
        // either way the agent may drop it; only a stale one is flagged as rejected.
        bool duplicate = job && job->attempt == attempt && core::is_terminal(job->state);
        if (!duplicate) {
            ack["rejected"] = true;
            hub_log(core::log::level::warn,
                    "rejected result for job " + job_id + " attempt " + std::to_string(attempt) + " from agent " +
                        a.rec.name +
                        (job ? " (current attempt " + std::to_string(job->attempt) + ", " +
                                   std::string(core::to_string(job->state)) + ")"
                             : " (unknown job)"),
                    {{"job_id", job_id}, {"attempt", std::to_string(attempt)}, {"agent_id", a.rec.id}});
        }
        // Commit order: anything staged before this point is durable before the ack leaves.
        persist({}, [peer, ack] { peer->send(ack); });
        return;
    }
    const auto& status = m.status;
    if (const auto* mask = mask_for(*job)) {  // agents mask too; what is recorded must not depend on it
        mask->apply(m.output);
        mask->apply(m.error);
    }
    core::json result = {{"exit_code", m.exit_code ? core::json(*m.exit_code) : core::json()},
                         {"output", std::move(m.output)},
                         {"error", std::move(m.error)}};
    store::write_batch batch;
    if (status == "succeeded") {
        circuit_breaker::success(a.rec);
        finish_job(*job, core::job_state::succeeded, result, batch);
    } else if (status == "cancelled") {
        finish_job(*job, core::job_state::cancelled, result, batch);
    } else {
        // No exit code means the handler could not run at all: count it against the agent.
        if (result["exit_code"].is_null() && status != "timed_out") infra_failure(a);
        else circuit_breaker::success(a.rec);
        if (status != "failed" && status != "timed_out") result["error"] = "agent reported unknown status \"" + status + "\"";
        settle_failure(*job, status == "timed_out" ? core::job_state::timed_out : core::job_state::failed, result, batch);
    }
    persist(std::move(batch), [this, peer, ack = std::move(ack), job_id = job_id] {
        peer->send(ack);
        end_if_terminal(job_id);
    });
    schedule_dispatch();
}

void hub::agent_lost(agent_entry& a, const std::string& reason) {
    a.peer.reset();
    a.connection = 0;
    a.rec.state = core::agent_state::disconnected;
    hub_log(core::log::level::info,
            "agent " + a.rec.name + " (" + a.rec.id + ") disconnected: " + reason + "; " +
                std::to_string(a.jobs.size()) + " jobs in flight",
            {{"agent_id", a.rec.id}, {"agent", a.rec.name}});
    // Calls to it will never be answered.
    for (auto& c : calls_.take_if([&](const pending_call& c) { return c.agent_id == a.rec.id; }))
        c.reply({{}, core::error(core::error_kind::unavailable, "agent " + a.rec.name + " disconnected before answering")});
    store::write_batch batch;
    record_agent_event(a, core::agent_event::disconnected, batch, reason);
    std::vector<std::string> ended;
    for (const auto& job_id : std::vector<std::string>(a.jobs.begin(), a.jobs.end())) {
        auto* job = find_job(job_id);
        if (!job) continue;
        if (job->cancel_requested) {  // nobody is left to confirm the cancellation
            finish_job(*job, core::job_state::cancelled, {{"error", "cancelled; the agent disconnected"}}, batch);
            ended.push_back(job_id);
            continue;
        }
        if (job->spec.on_agent_lost == core::agent_lost_policy::wait) continue;
        deadlines_->after(opts_.reassign_after_ms,
                         [this, job_id, attempt = job->attempt, agent = a.rec.id] { reclaim(job_id, attempt, agent); });
    }
    persist(std::move(batch), [this, ended] {
        for (const auto& id : ended) job_ended(id);
    });
}

void hub::reclaim(const std::string& job_id, int attempt, const std::string& agent_id) {
    auto* job = find_job(job_id);
    if (!attempt_fence(attempt, agent_id).admits(job)) return;
    auto ait = agents_.find(agent_id);
    if (ait != agents_.end() && ait->second->peer) return;  // it came back in time and kept the job
    if (agent_elsewhere(agent_id)) return;                  // it moved to another hub, which has it now
    store::write_batch batch;
    std::string name = ait != agents_.end() ? ait->second->rec.name : agent_id;
    if (job->spec.on_agent_lost == core::agent_lost_policy::fail) {
        finish_job(*job, core::job_state::failed, {{"error", "agent_lost: agent " + name + " disconnected"}}, batch);
    } else {
        requeue(*job, "agent_lost: agent " + name + " disconnected", true, batch);
    }
    persist(std::move(batch), [this, job_id] { end_if_terminal(job_id); });
    schedule_dispatch();
}

void hub::requeue(core::job_record& job, const std::string& reason, bool counts, store::write_batch& batch) {
    if (job.cancel_requested) {  // it must not run again: the cancellation ends it here
        finish_job(job, core::job_state::cancelled, {{"error", "cancelled; " + reason}}, batch);
        return;
    }
    if (counts && job.reassigns >= opts_.max_reassign) {
        finish_job(job, core::job_state::failed,
                   {{"error", reason + "; gave up after " + std::to_string(job.reassigns) + " reassignments (serve --max-reassign)"}},
                   batch);
        return;
    }
    std::string agent = job.agent_id;
    record(job, core::job_event::requeued, {{"attempt", job.attempt}, {"reason", reason}, {"counts", counts}}, batch);
    if (!agent.empty()) release_slot(agent, job.id);
    dispatcher_.enqueue(job);
}

void hub::release_slot(const std::string& agent_id, const std::string& job_id) {
    auto it = agents_.find(agent_id);
    if (it == agents_.end()) return;
    it->second->jobs.erase(job_id);
    it->second->rec.running = static_cast<int>(it->second->jobs.size());
}

void hub::infra_failure(agent_entry& a) {
    if (!breaker_.failure(a.rec, clock_.now_ms())) return;
    dirty_agents_.insert(a.rec.id);
    hub_log(core::log::level::warn,
            "agent " + a.rec.name + " failed " + std::to_string(opts_.breaker_threshold) +
                " jobs in a row for infrastructure reasons; out of rotation for " +
                std::to_string(opts_.breaker_cooldown_ms / 1000) + "s",
            {{"agent_id", a.rec.id}, {"agent", a.rec.name}});
    deadlines_->after(opts_.breaker_cooldown_ms + 10, [this] { schedule_dispatch(); });
}

hub::agent_entry* hub::find_agent(const std::string& id_or_name) {
    if (auto it = agents_.find(id_or_name); it != agents_.end()) return it->second.get();
    for (auto& [id, a] : agents_)
        if (a->rec.name == id_or_name) return a.get();
    return nullptr;
}

void hub::list_agents(job_reply request) {
    on_strand("list_agents", std::move(request), [self = shared_from_this()](job_reply& reply) {
        core::json out = core::json::array();
        for (auto& [id, a] : self->agents_) out.push_back(self->with_twin(core::to_json(a->rec)));
        std::sort(out.begin(), out.end(), [](const core::json& x, const core::json& y) { return x["name"] < y["name"]; });
        reply({core::json{{"agents", std::move(out)}}, std::nullopt});
    });
}

void hub::get_agent(const std::string& id_or_name, job_reply request) {
    on_strand("get_agent", std::move(request), [self = shared_from_this(), id_or_name](job_reply& reply) {
        auto* a = self->find_agent(id_or_name);
        if (!a)
            return reply({{}, core::error(core::error_kind::not_found,
                                          "agent " + id_or_name + " not found (list agents with `orbitmesh status agents`)")});
        reply({self->with_twin(core::to_json(a->rec)), std::nullopt});
    });
}

}  // namespace orbitmesh::engine
