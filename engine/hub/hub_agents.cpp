// The hub side of the agent protocol (SPEC §2): hello/welcome, ack/nack, results, heartbeats,
// and what happens when an agent goes away.
#include <algorithm>
#include <set>

#include "core/agent_machine.hpp"
#include "core/clock.hpp"
#include "core/job_events.hpp"
#include "core/protocol.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace msg = core::protocol::msg;

void hub::on_open(const std::shared_ptr<transport::mesh_peer>& peer) {
    boost::asio::post(strand_, [self = shared_from_this(), peer] {
        self->sessions_[peer->id()] = session{};
        std::weak_ptr<transport::mesh_peer> weak = peer;
        self->deadlines_.after(10'000, [self, weak] {
            auto p = weak.lock();
            if (!p) return;
            auto it = self->sessions_.find(p->id());
            if (it != self->sessions_.end() && it->second.agent_id.empty())
                p->close(core::protocol::close_policy, "no hello within 10s");
        });
    });
}

void hub::on_message(const std::shared_ptr<transport::mesh_peer>& peer, core::json m) {
    auto kind = m.find("t");
    bool heartbeat = kind != m.end() && kind->is_string() && kind->get_ref<const std::string&>() == msg::heartbeat;
    auto handle = [self = shared_from_this(), peer, m = std::move(m)] {
        auto sit = self->sessions_.find(peer->id());
        if (sit == self->sessions_.end()) return;  // closed or replaced
        if (auto problem = core::protocol::check_message(m)) {
            hub_log("agent connection " + peer->remote_address() + ": closing 1007: " + *problem);
            return peer->close(core::protocol::close_invalid, *problem);
        }
        const auto& t = m["t"].get_ref<const std::string&>();
        if (sit->second.agent_id.empty()) {
            if (t != msg::hello) {
                hub_log("agent connection " + peer->remote_address() + ": closing 1008: " + t + " before hello");
                return peer->close(core::protocol::close_policy, "expected hello as the first message, got " + t);
            }
            return self->handle_hello(peer, sit->second, m);
        }
        auto ait = self->agents_.find(sit->second.agent_id);
        if (ait == self->agents_.end()) return;
        auto& a = *ait->second;
        a.last_seen_steady = core::steady_ms();
        if (t == msg::heartbeat) self->handle_heartbeat(a, m);
        else if (t == msg::ack) self->handle_ack(a, m);
        else if (t == msg::nack) self->handle_nack(a, m);
        else if (t == msg::result) self->handle_result(a, peer, m);
        else if (t == msg::output) self->handle_output(a, m);
        else if (t == msg::progress) self->handle_progress(a, m);
        else if (t == msg::reply) self->handle_reply(m);
        // twin_reported and others: accepted and ignored for now (versions can mix).
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

void hub::on_close(const std::shared_ptr<transport::mesh_peer>& peer, const std::string& reason) {
    boost::asio::post(strand_, [self = shared_from_this(), peer, reason] {
        auto sit = self->sessions_.find(peer->id());
        if (sit == self->sessions_.end()) return;
        std::string agent_id = sit->second.agent_id;
        self->sessions_.erase(sit);
        auto ait = self->agents_.find(agent_id);
        if (ait != self->agents_.end() && ait->second->connection == peer->id()) self->agent_lost(*ait->second, reason);
    });
}

void hub::handle_hello(const std::shared_ptr<transport::mesh_peer>& peer, session& s, const core::json& m) {
    int version = m["protocol"].get<int>();
    if (version < 1 || version > core::protocol::version)
        return peer->close(core::protocol::close_policy, "unsupported protocol version " + std::to_string(version) +
                                                             " (this hub speaks 1.." +
                                                             std::to_string(core::protocol::version) + ")");
    const auto& id = m["agent_id"].get_ref<const std::string&>();
    if (id.empty() || id.size() > 128) return peer->close(core::protocol::close_invalid, "hello has a bad agent_id");
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
    a.last_seen_steady = core::steady_ms();
    a.rec.id = id;
    a.rec.name = m["name"].get<std::string>();
    a.rec.version = m["version"].get<std::string>();
    a.rec.concurrency = std::max(1, m["concurrency"].get<int>());
    try {
        a.rec.tags = m["tags"].get<std::map<std::string, std::string>>();
        a.rec.capabilities = m["capabilities"].get<std::vector<std::string>>();
        a.handlers.clear();
        if (auto h = m.find("handlers"); h != m.end() && h->is_array())
            for (const auto& name : *h)
                if (name.is_string()) a.handlers.insert(core::canonical_command(name.get<std::string>()));
    } catch (const core::json::exception&) {
        return peer->close(core::protocol::close_invalid, "hello tags must map strings to strings and capabilities be strings");
    }
    a.rec.state = core::agent_state::connected;
    a.rec.connected_ms = a.rec.last_seen_ms = core::now_ms();

    // Reconcile: jobs the hub thinks it runs versus what it says it holds.
    std::set<std::pair<std::string, int>> held;
    for (const auto& r : m["running"])
        if (r.is_object() && r.contains("job_id") && r["job_id"].is_string())
            held.emplace(r["job_id"].get<std::string>(), r.value("attempt", 0));
    store::write_batch batch;
    for (const auto& job_id : std::vector<std::string>(a.jobs.begin(), a.jobs.end())) {
        auto* job = find_job(job_id);
        if (job && !held.count({job_id, job->attempt}) && !core::is_terminal(job->state))
            requeue(*job, "agent " + a.rec.name + " came back without the job", true, batch);
    }
    for (const auto& [job_id, attempt] : held) {
        auto* job = find_job(job_id);
        bool current = job && job->agent_id == id && job->attempt == attempt && !core::is_terminal(job->state);
        if (!current)  // a stale attempt still running there: stop it (its result will be rejected anyway)
            peer->send({{"t", msg::cancel}, {"job_id", job_id}, {"attempt", attempt}, {"reason", "stale attempt"},
                        {"grace_ms", opts_.cancel_grace_ms}});
    }
    a.rec.running = static_cast<int>(a.jobs.size());
    record_agent_event(a, core::agent_event::connected, batch);
    auto session_id = session_prefix_ + "-" + std::to_string(++session_counter_);
    persist(std::move(batch), nullptr);
    peer->send({{"t", msg::welcome}, {"session", session_id}, {"heartbeat_ms", opts_.heartbeat_ms},
                {"server_time", core::now_ms()}});
    schedule_dispatch();
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
    auto e = core::make_event(agent_stream(a.rec.id), a.version++, type, std::move(data));
    a.stream_state = *kind == core::agent_event_kind::connected ? core::agent_state::connected : core::agent_state::disconnected;
    batch.events.push_back(std::move(e));
    dirty_agents_.insert(a.rec.id);
}

void hub::handle_heartbeat(agent_entry& a, const core::json& m) {
    const auto& load = m["load"];
    a.rec.cpu = load.value("cpu", 0.0);
    a.rec.mem = load.value("mem", 0.0);
    a.rec.last_seen_ms = core::now_ms();
}

void hub::handle_progress(agent_entry& a, const core::json& m) {
    auto* job = find_job(m["job_id"].get<std::string>());
    if (!job || job->agent_id != a.rec.id || job->attempt != m["attempt"].get<int>()) return;
    job->progress_percent = std::clamp(m["percent"].get<double>(), 0.0, 100.0);
    job->progress_message = m.value("message", std::string{});
    dirty_jobs_.insert(job->id);
}

void hub::send_assign(const std::string& job_id, int attempt) {
    auto* job = find_job(job_id);
    if (!job || job->state != core::job_state::assigned || job->attempt != attempt) return;
    auto it = agents_.find(job->agent_id);
    if (it == agents_.end() || !it->second->peer) return;  // agent loss handling will reclaim it
    const auto& s = job->spec;
    it->second->peer->send({{"t", msg::assign}, {"job_id", job_id}, {"attempt", attempt},
                            {"idempotency_key", s.idempotency_key.empty() ? job_id : s.idempotency_key},
                            {"command", s.command}, {"payload", s.payload}, {"mode", core::to_string(s.mode)},
                            {"timeout_ms", s.timeout_ms}, {"trace", s.trace}});
    deadlines_.after(opts_.ack_timeout_ms, [this, job_id, attempt] {
        auto* j = find_job(job_id);
        if (!j || j->state != core::job_state::assigned || j->attempt != attempt) return;
        auto ait = agents_.find(j->agent_id);
        std::string agent = j->agent_id;
        if (ait != agents_.end()) infra_failure(*ait->second);
        store::write_batch batch;
        exclusions_[job_id] = {agent, core::steady_ms() + opts_.ack_timeout_ms};
        requeue(*j, "no ack from agent within the ack timeout", true, batch);
        persist(std::move(batch), [this, job_id] {
            auto* k = find_job(job_id);
            if (k && core::is_terminal(k->state)) job_ended(job_id);
        });
        schedule_dispatch();
    });
}

void hub::handle_ack(agent_entry& a, const core::json& m) {
    auto* job = find_job(m["job_id"].get<std::string>());
    int attempt = m["attempt"].get<int>();
    if (!job || job->agent_id != a.rec.id || job->attempt != attempt || job->state != core::job_state::assigned) return;
    a.rec.consecutive_failures = 0;
    store::write_batch batch;
    record(*job, core::job_event::started, {{"attempt", attempt}}, batch);
    bool ended = false;
    if (job->spec.mode == core::job_mode::fire_and_forget) {  // done when ACKed
        finish_job(*job, core::job_state::succeeded, core::json::object(), batch);
        ended = true;
    } else if (job->spec.timeout_ms > 0) {
        // The agent enforces the timeout; this guard ends the job if the agent goes quiet.
        deadlines_.after(job->spec.timeout_ms + opts_.cancel_grace_ms + 5000, [this, id = job->id, attempt] {
            auto* j = find_job(id);
            if (!j || core::is_terminal(j->state) || j->attempt != attempt) return;
            store::write_batch b;
            settle_failure(*j, core::job_state::timed_out, {{"error", "no result from the agent within the job timeout"}}, b);
            persist(std::move(b), [this, id] {
                auto* k = find_job(id);
                if (k && core::is_terminal(k->state)) job_ended(id);
            });
            schedule_dispatch();
        });
    }
    std::string id = job->id;
    persist(std::move(batch), ended ? std::function<void()>([this, id] { job_ended(id); }) : nullptr);
    if (ended) schedule_dispatch();
}

void hub::handle_nack(agent_entry& a, const core::json& m) {
    auto* job = find_job(m["job_id"].get<std::string>());
    int attempt = m["attempt"].get<int>();
    if (!job || job->agent_id != a.rec.id || job->attempt != attempt || job->state != core::job_state::assigned) return;
    const auto& reason = m["reason"].get_ref<const std::string&>();
    bool busy = reason == "busy" || reason == "draining";
    if (!busy) infra_failure(a);
    // Try elsewhere first: keep this agent out of this job's way for a while.
    exclusions_[job->id] = {a.rec.id, core::steady_ms() + (busy ? 500 : 30'000)};
    store::write_batch batch;
    requeue(*job, "agent " + a.rec.name + " refused the job: " + reason, false, batch);
    persist(std::move(batch), nullptr);
    deadlines_.after(busy ? 500 : 0, [this] { schedule_dispatch(); });
}

}  // namespace orbitmesh::engine
