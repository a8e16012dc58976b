// Twins (SPEC §7): operators set the desired half, the agent reports the other. Each change is an
// event of the `twin-<agent id>` stream. The hub acts on `drain` itself (a draining agent gets no
// new job from the moment it is committed) and takes the concurrency and labels the agent
// reports as applied, so targeting sees them.
#include "core/protocol.hpp"
#include "engine/hub/hub.hpp"
#include "engine/hub/hub_log.hpp"
#include "engine/hub/hub_state.hpp"

namespace orbitmesh::engine {

namespace {

core::error no_agent(const std::string& id_or_name) {
    return core::error(core::error_kind::not_found, "agent " + id_or_name + " not found (list agents with `orbitmesh status agents`)");
}

}  // namespace

void hub::fold_twin(const core::event& e) {
    auto& t = twins_[e.stream.substr(5)];
    core::apply(t, e);
}

bool hub::draining(const std::string& agent_id) const {
    auto it = twins_.find(agent_id);
    return it != twins_.end() && core::twin_draining(it->second);
}

core::json hub::with_twin(core::json agent) const {
    auto it = twins_.find(agent.value("id", std::string{}));
    if (it == twins_.end()) return agent;
    agent["draining"] = core::twin_draining(it->second);
    agent["drift"] = core::twin_drift(it->second);
    agent["reported"] = it->second.reported;
    return agent;
}

void hub::get_twin(const std::string& id_or_name, job_reply request) {
    on_strand("get_twin", std::move(request), [self = shared_from_this(), id_or_name](job_reply& reply) {
        auto* a = self->find_agent(id_or_name);
        if (!a) return reply({{}, no_agent(id_or_name)});
        auto& t = self->twins_[a->rec.id];
        t.agent_id = a->rec.id;
        auto j = core::to_json(t);
        j["agent"] = {{"id", a->rec.id}, {"name", a->rec.name}, {"state", core::to_string(a->rec.state)}};
        reply({std::move(j), std::nullopt});
    });
}

void hub::patch_twin(const std::string& id_or_name, core::json patch, std::string by, job_reply request) {
    on_strand("patch_twin", std::move(request), [self = shared_from_this(), id_or_name, patch = std::move(patch),
                                                 by = std::move(by)](job_reply& reply) {
        if (!patch.is_object() || patch.empty())
            return reply({{}, core::error(core::error_kind::invalid_input,
                                          "a twin patch is a JSON object of desired keys, e.g. {\"drain\": true}")});
        if (patch.contains("concurrency") && !patch["concurrency"].is_null() &&
            (!patch["concurrency"].is_number_integer() || patch["concurrency"].get<std::int64_t>() < 1 ||
             patch["concurrency"].get<std::int64_t>() > 10'000))
            return reply({{}, core::error(core::error_kind::invalid_input, "twin concurrency must be a whole number from 1 to 10000")});
        if (patch.contains("drain") && !patch["drain"].is_null() && !patch["drain"].is_boolean())
            return reply({{}, core::error(core::error_kind::invalid_input, "twin drain must be true or false")});
        if (patch.contains("labels") && !patch["labels"].is_null() && !patch["labels"].is_object())
            return reply({{}, core::error(core::error_kind::invalid_input, "twin labels must be a map of KEY: VALUE")});
        auto* a = self->find_agent(id_or_name);
        if (!a) return reply({{}, no_agent(id_or_name)});
        auto& t = self->twins_[a->rec.id];
        t.agent_id = a->rec.id;
        auto e = core::make_twin_event(t, core::twin_event::desired, {{"patch", patch}, {"version", t.desired_version + 1}, {"by", by}},
                                       self->clock_.now_ms());
        core::apply(t, e);
        store::write_batch batch;
        batch.events.push_back(std::move(e));
        const std::string id = a->rec.id;
        self->persist(std::move(batch), [self, id, reply] {
            auto* agent = self->find_agent(id);
            if (agent) self->send_twin_desired(*agent);
            self->schedule_dispatch();  // undrained: it may take work again
            reply({core::to_json(self->twins_[id]), std::nullopt});
        });
    });
}

void hub::send_twin_desired(agent_entry& a) {
    auto it = twins_.find(a.rec.id);
    if (!a.peer || it == twins_.end() || it->second.desired_version == 0) return;
    a.peer->send({{"t", core::protocol::msg::twin_desired}, {"version", it->second.desired_version}, {"desired", it->second.desired}});
}

void hub::handle_twin_reported(agent_entry& a, core::protocol::twin_reported& m) {
    auto& t = twins_[a.rec.id];
    t.agent_id = a.rec.id;
    if (m.reported == t.reported) return apply_reported(a);  // a reconnect repeating itself: nothing new
    auto e = core::make_twin_event(t, core::twin_event::reported, {{"reported", m.reported}, {"version", m.version}},
                                   clock_.now_ms());
    core::apply(t, e);
    apply_reported(a);
    store::write_batch batch;
    batch.events.push_back(std::move(e));
    persist(std::move(batch), [] {});
}

// What the agent says it applied is what the dispatcher uses: its slots and its labels as tags.
void hub::apply_reported(agent_entry& a) {
    const auto& r = twins_[a.rec.id].reported;
    if (auto c = r.find("concurrency"); c != r.end() && c->is_number_integer() && c->get<int>() >= 1)
        a.rec.concurrency = c->get<int>();
    if (auto l = r.find("labels"); l != r.end() && l->is_object())
        for (const auto& [k, v] : l->items())
            if (v.is_string()) a.rec.tags[k] = v.get<std::string>();
    // Detected facts as `reported.KEY` tags: `job submit --where reported.arch=arm64` targets them.
    for (const char* k : {"os", "arch", "cores", "kernel", "version", "memory_bytes"})
        if (auto f = r.find(k); f != r.end() && (f->is_string() || f->is_number()))
            a.rec.tags[std::string("reported.") + k] = f->is_string() ? f->get<std::string>() : f->dump();
    schedule_dispatch();
}

}  // namespace orbitmesh::engine
