// The hub side of the agent protocol (SPEC §2): hello/welcome, ack/nack, results, heartbeats,
// and what happens when an agent goes away.
#include <algorithm>
#include <set>

#include "core/agent_machine.hpp"
#include "core/clock.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "core/traceparent.hpp"
#include "engine/hub/attempt_fence.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_log.hpp"
#include "engine/hub/hub_state.hpp"
#include "engine/hub/mesh_identity.hpp"

namespace orbitmesh::engine {

namespace msg = core::protocol::msg;

namespace {

/// The principal the upgrade was authenticated as (engine/serve puts it there); open when none.
core::principal principal_of(const transport::mesh_peer& peer) {
    if (const auto* who = std::any_cast<core::principal>(&peer.upgrade_request().context)) return *who;
    return {};
}

}  // namespace

void hub::on_open(const std::shared_ptr<transport::mesh_peer>& peer) {
    post([self = shared_from_this(), peer] {
        self->sessions_[peer->id()] = session{{}, principal_of(*peer), peer};
        std::weak_ptr<transport::mesh_peer> weak = peer;
        self->deadlines_->after(10'000, [self, weak] {
            auto p = weak.lock();
            if (!p) return;
            auto it = self->sessions_.find(p->id());
            if (it != self->sessions_.end() && it->second.agent_id.empty())
                p->close(core::protocol::close_policy, "no hello within 10s");
        });
    });
}

void hub::on_message(const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::agent_message m) {
    const bool heartbeat = std::holds_alternative<core::protocol::heartbeat>(m);
    auto handle = [self = shared_from_this(), peer, m = std::move(m)]() mutable {
        guarded([&] { self->handle_message(peer, m); },
                [&] { return std::string(core::protocol::type_of(m)) + " from " + peer->remote_address(); },
                [&](const std::exception&) {
                    peer->close(core::protocol::close_internal,
                                "internal error handling " + std::string(core::protocol::type_of(m)) +
                                    "; the hub logged the details");
                });
    };
    // A heartbeat is a few field writes: dispatch runs it right here, on the io thread that read
    // it, when the hub strand is idle, instead of waking the other io thread for it (10,000
    // agents send 2,000 a second). Order is kept either way: the strand queues it behind
    // anything already waiting. Everything else is posted, so job traffic keeps its reader free.
    if (heartbeat)
        boost::asio::dispatch(strand_, std::move(handle));
    else
        boost::asio::post(strand_, std::move(handle));
}

void hub::handle_message(const std::shared_ptr<transport::mesh_peer>& peer, core::protocol::agent_message& m) {
    namespace p = core::protocol;
    auto sit = sessions_.find(peer->id());
    if (sit == sessions_.end()) return;  // closed or replaced
    if (sit->second.agent_id.empty()) {
        if (auto* h = std::get_if<p::hello>(&m)) return handle_hello(peer, sit->second, *h);
        auto t = std::string(p::type_of(m));
        hub_log("agent connection " + peer->remote_address() + ": closing 1008: " + t + " before hello");
        return peer->close(p::close_policy, "expected hello as the first message, got " + t);
    }
    auto ait = agents_.find(sit->second.agent_id);
    if (ait == agents_.end()) return;
    auto& a = *ait->second;
    a.last_seen_steady = clock_.steady_ms();
    struct visitor {
        hub& h;
        agent_entry& a;
        const std::shared_ptr<transport::mesh_peer>& peer;
        void operator()(p::heartbeat& x) { h.handle_heartbeat(a, x); }
        void operator()(p::ack& x) { h.handle_ack(a, x); }
        void operator()(p::result& x) { h.handle_result(a, peer, x); }
        void operator()(p::output& x) { h.handle_output(a, x); }
        void operator()(p::nack& x) { h.handle_nack(a, x); }
        void operator()(p::progress& x) { h.handle_progress(a, x); }
        void operator()(p::reply& x) { h.handle_reply(x); }
        void operator()(p::hello&) {}
        void operator()(p::twin_reported& x) { h.handle_twin_reported(a, x); }
    };
    std::visit(visitor{*this, a, peer}, m);
    // A second hello on a registered connection: accepted and ignored.
}

void hub::close_sessions_of(std::string token_id, std::string family, std::string reason) {
    post([self = shared_from_this(), token_id = std::move(token_id), family = std::move(family), reason = std::move(reason)] {
        for (auto& entry : self->sessions_) {
            const auto& s = entry.second;
            const auto& who = s.who;
            if (who.token_id.empty() || (who.token_id != token_id && (family.empty() || who.family != family))) continue;
            if (auto p = s.peer.lock()) {
                hub_log("agent connection " + p->remote_address() + " (" + (s.agent_id.empty() ? "before hello" : s.agent_id) +
                        "): closing 1008: " + reason);
                p->close(core::protocol::close_policy, reason);
            }
        }
    });
}

void hub::on_close(const std::shared_ptr<transport::mesh_peer>& peer, const std::string& reason) {
    post([self = shared_from_this(), peer, reason] {
        auto sit = self->sessions_.find(peer->id());
        if (sit == self->sessions_.end()) return;
        std::string agent_id = sit->second.agent_id;
        self->sessions_.erase(sit);
        auto ait = self->agents_.find(agent_id);
        if (ait != self->agents_.end() && ait->second->connection == peer->id()) self->agent_lost(*ait->second, reason);
    });
}

void hub::handle_hello(const std::shared_ptr<transport::mesh_peer>& peer, session& s, core::protocol::hello& m) {
    if (m.protocol < 1 || m.protocol > core::protocol::version)
        return peer->close(core::protocol::close_policy, "unsupported protocol version " + std::to_string(m.protocol) +
                                                             " (this hub speaks 1.." +
                                                             std::to_string(core::protocol::version) + ")");
    const auto& id = m.agent_id;
    auto known = agents_.find(id);
    const std::string* known_name = known != agents_.end() && known->second ? &known->second->rec.name : nullptr;
    if (auto problem = hello_identity_problem(peer->tls_subject(), !opts_.tls.client_ca_file.empty(), m, known_name)) {
        hub_log("agent connection " + peer->remote_address() + ": closing 1008: " + *problem);
        return peer->close(core::protocol::close_policy, *problem);
    }
    auto& slot = agents_[id];
    if (!slot) slot = std::make_unique<agent_entry>();
    auto& a = *slot;
    if (a.peer && a.connection != peer->id()) {
        sessions_.erase(a.connection);
        a.peer->close(core::protocol::close_policy, "replaced by a newer connection of the same agent");
    }
    s.agent_id = id;
    a.peer = peer;
    a.connection = peer->id();
    a.last_seen_steady = clock_.steady_ms();
    a.rec.id = id;
    a.rec.name = std::move(m.name);
    a.rec.version = std::move(m.version);
    a.rec.concurrency = m.concurrency;
    a.rec.tags = std::move(m.tags);
    a.rec.capabilities = std::move(m.capabilities);
    a.handlers.clear();
    if (m.handlers)
        for (const auto& name : *m.handlers) a.handlers.insert(core::canonical_command(name));
    a.rec.state = core::agent_state::connected;
    a.rec.connected_ms = a.rec.last_seen_ms = clock_.now_ms();
    if (core::log::enabled(core::log::level::debug))
        hub_log(core::log::level::debug, "agent " + a.rec.name + " (" + a.rec.id + ") connected from " + peer->remote_address(),
                {{"agent_id", a.rec.id}, {"agent", a.rec.name}});

    store::write_batch batch;
    if (opts_.shared_store) {
        // It was connected to another hub (which died or lost it): its stream says it left there.
        if (a.stream_state == core::agent_state::connected)
            record_agent_event(a, core::agent_event::disconnected, batch, "moved to hub " + opts_.hub_id);
        agent_hub_[id] = opts_.hub_id;
    }
    auto ended = reconcile(a, peer, m.running, batch);
    a.rec.running = static_cast<int>(a.jobs.size());
    record_agent_event(a, core::agent_event::connected, batch);
    auto session_id = session_prefix_ + "-" + std::to_string(++session_counter_);
    persist(std::move(batch), [this, ended] {
        for (const auto& job_id : ended) end_if_terminal(job_id);
    });
    peer->send({{"t", msg::welcome}, {"session", session_id}, {"heartbeat_ms", opts_.heartbeat_ms},
                {"server_time", clock_.now_ms()}});
    send_twin_desired(a);  // hub_twin.cpp: what operators want of it, every time it connects
    schedule_dispatch();
}

std::vector<std::string> hub::reconcile(agent_entry& a, const std::shared_ptr<transport::mesh_peer>& peer,
                                        std::vector<core::protocol::running_job>& running, store::write_batch& batch) {
    std::set<std::pair<std::string, int>> held;
    for (auto& r : running) held.emplace(std::move(r.job_id), r.attempt);
    std::vector<std::string> requeued;
    std::vector<std::string> on_it(a.jobs.begin(), a.jobs.end());
    if (opts_.shared_store)  // and what other hubs assigned to it (it was connected there)
        for (const auto& [id, job] : jobs_)
            if (job.agent_id == a.rec.id && !a.jobs.count(id) &&
                (job.state == core::job_state::assigned || job.state == core::job_state::running))
                on_it.push_back(id);
    for (const auto& job_id : on_it) {
        auto* job = find_job(job_id);
        if (!job || held.count({job_id, job->attempt}) || core::is_terminal(job->state)) continue;
        requeue(*job, "agent " + a.rec.name + " came back without the job", true, batch);
        requeued.push_back(job_id);
    }
    for (const auto& [job_id, attempt] : held) {
        // A stale attempt still running there: stop it (its result would be rejected anyway).
        if (attempt_fence(attempt, a.rec.id).admits(find_job(job_id))) {
            a.jobs.insert(job_id);  // assigned through another hub (shared store): it runs here now
            continue;
        }
        peer->send({{"t", msg::cancel}, {"job_id", job_id}, {"attempt", attempt}, {"reason", "stale attempt"},
                    {"grace_ms", opts_.cancel_grace_ms}});
    }
    return requeued;
}

void hub::record_agent_event(agent_entry& a, std::string_view type, store::write_batch& batch, const std::string& reason) {
    // The agent state machine (core/agent_machine.hpp) decides, live as on replay: a transition it
    // refuses is logged and not recorded.
    const auto kind = core::parse_agent_event_kind(type);
    if (!kind || !core::agent_transition_allowed(a.stream_state, *kind)) {
        hub_log("agent " + a.rec.name + " (" + a.rec.id + "): refused to record " + std::string(type) + " in state " +
                (a.stream_state ? std::string(core::to_string(*a.stream_state)) : std::string("(none)")));
        return;
    }
    core::json data{{"name", a.rec.name}, {"tags", a.rec.tags}, {"capabilities", a.rec.capabilities},
                    {"concurrency", a.rec.concurrency}, {"version", a.rec.version}};
    if (*kind == core::agent_event_kind::disconnected && !reason.empty()) data["reason"] = reason;
    if (opts_.shared_store) data["hub"] = opts_.hub_id;  // where it is (or was) connected
    auto e = core::make_event(agent_stream(a.rec.id), a.version++, type, std::move(data), clock_.now_ms());
    a.stream_state = *kind == core::agent_event_kind::connected ? core::agent_state::connected : core::agent_state::disconnected;
    batch.events.push_back(std::move(e));
    dirty_agents_.insert(a.rec.id);
}

void hub::handle_heartbeat(agent_entry& a, const core::protocol::heartbeat& m) {
    a.rec.cpu = m.cpu;
    a.rec.mem = m.mem;
    a.rec.last_seen_ms = clock_.now_ms();
}

void hub::handle_progress(agent_entry& a, core::protocol::progress& m) {
    auto* job = find_job(m.job_id);
    if (!attempt_fence(m.attempt, a.rec.id).admits(job)) return;
    job->progress_percent = m.percent;
    job->progress_message = std::move(m.message);
    if (const auto* mask = mask_for(*job)) mask->apply(job->progress_message);
    dirty_jobs_.insert(job->id);
}

void hub::send_assign(const std::string& job_id, int attempt) {
    auto* job = find_job(job_id);
    if (!attempt_fence(attempt).admits_unacked(job)) return;
    auto it = agents_.find(job->agent_id);
    if (it == agents_.end() || !it->second->peer) return;  // agent loss handling will reclaim it
    const auto& s = job->spec;
    core::json assign{{"t", msg::assign}, {"job_id", job_id}, {"attempt", attempt},
                      {"idempotency_key", s.idempotency_key.empty() ? job_id : s.idempotency_key},
                      {"command", s.command}, {"payload", s.payload}, {"mode", core::to_string(s.mode)},
                      {"timeout_ms", s.timeout_ms}, {"trace", core::job_traceparent(s.trace, job_id)}};
    if (!s.limits.empty()) assign["limits"] = core::to_json(s.limits);
    if (!add_secrets(*job, assign)) return;  // a secret vanished since submit: the job failed instead
    it->second->peer->send(std::move(assign));
    deadlines_->after(opts_.ack_timeout_ms, [this, job_id, attempt] {
        auto* j = find_job(job_id);
        if (!attempt_fence(attempt).admits_unacked(j)) return;
        auto ait = agents_.find(j->agent_id);
        std::string agent = j->agent_id;
        if (ait != agents_.end()) infra_failure(*ait->second);
        store::write_batch batch;
        exclusions_[job_id] = {agent, clock_.steady_ms() + opts_.ack_timeout_ms};
        requeue(*j, "no ack from agent within the ack timeout", true, batch);
        persist(std::move(batch), [this, job_id] { end_if_terminal(job_id); });
        schedule_dispatch();
    });
}

void hub::handle_ack(agent_entry& a, const core::protocol::ack& m) {
    auto* job = find_job(m.job_id);
    int attempt = m.attempt;
    if (!attempt_fence(attempt, a.rec.id).admits_unacked(job)) return;
    // An ACK alone does not reset the breaker: the handler may still fail to start (a result
    // without an exit code), and that failure has to count.
    store::write_batch batch;
    record(*job, core::job_event::started, {{"attempt", attempt}}, batch);
    bool ended = false;
    if (job->spec.mode == core::job_mode::fire_and_forget) {  // done when ACKed
        circuit_breaker::success(a.rec);
        finish_job(*job, core::job_state::succeeded, core::json::object(), batch);
        ended = true;
    } else if (job->spec.timeout_ms > 0) {
        // The agent enforces the timeout; this guard ends the job if the agent goes quiet.
        deadlines_->after(job->spec.timeout_ms + opts_.cancel_grace_ms + 5000, [this, id = job->id, attempt] {
            auto* j = find_job(id);
            if (!attempt_fence(attempt).admits(j)) return;
            store::write_batch b;
            settle_failure(*j, core::job_state::timed_out, {{"error", "no result from the agent within the job timeout"}}, b);
            persist(std::move(b), [this, id] { end_if_terminal(id); });
            schedule_dispatch();
        });
    }
    std::string id = job->id;
    persist(std::move(batch), ended ? std::function<void()>([this, id] { job_ended(id); }) : nullptr);
    if (ended) schedule_dispatch();
}

void hub::handle_nack(agent_entry& a, const core::protocol::nack& m) {
    auto* job = find_job(m.job_id);
    int attempt = m.attempt;
    if (!attempt_fence(attempt, a.rec.id).admits_unacked(job)) return;
    const auto& reason = m.reason;
    bool busy = reason == "busy" || reason == "draining";
    if (!busy) infra_failure(a);
    // Try elsewhere first: keep this agent out of this job's way for a while, then offer it again.
    const std::int64_t skip_ms = busy ? 500 : 30'000;
    exclusions_[job->id] = {a.rec.id, clock_.steady_ms() + skip_ms};
    store::write_batch batch;
    requeue(*job, "agent " + a.rec.name + " refused the job: " + reason, false, batch);
    persist(std::move(batch), [this, id = job->id] { end_if_terminal(id); });
    schedule_dispatch();
    deadlines_->after(skip_ms, [this] { schedule_dispatch(); });
}

}  // namespace orbitmesh::engine
