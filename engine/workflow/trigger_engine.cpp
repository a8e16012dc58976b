// The trigger engine's core: trigger streams, schedule triggers and their timers, firing a run.
#include "engine/workflow/trigger_engine.hpp"

#include <algorithm>
#include <cstdio>

#include "core/error.hpp"

namespace orbitmesh::engine {

namespace {

void trigger_log(const std::string& line) {
    std::string out = "orbitmesh serve: triggers: " + line + "\n";
    std::fwrite(out.data(), 1, out.size(), stderr);
}

bool is_schedule(const core::workflow_trigger& t) { return t.enabled && t.type == core::trigger_type::schedule; }

}  // namespace

std::string schedule_spec(const core::workflow_trigger& t) {
    if (!t.cron.empty()) return "cron " + t.cron + " " + t.timezone;
    return "interval " + std::to_string(t.interval_ms);
}

trigger_engine::trigger_engine(job_port& port, std::shared_ptr<runner> rn, const core::clock& clock, trigger_options opts)
    : port_(port), runner_(std::move(rn)), clock_(clock), opts_(opts) {}

void trigger_engine::connect() {
    std::weak_ptr<trigger_engine> weak = weak_from_this();
    runner_hooks hooks;
    hooks.registered = [weak](const std::string& id) {
        if (auto self = weak.lock()) self->workflow_registered(id);
    };
    hooks.event = [weak](const std::string& type, const core::json& data, const std::string& key) {
        auto self = weak.lock();
        return self ? self->on_event(type, data, key) : 0;
    };
    runner_->set_hooks(std::move(hooks));
}

void trigger_engine::replay(const core::event& e) {
    if (e.stream.compare(0, 8, "trigger-") != 0) return;
    auto& rec = records_[e.stream];
    if (rec.workflow.empty()) {  // the stream name holds both halves; the armed event repeats them
        auto slash = e.stream.find('/', 8);
        rec.workflow = e.stream.substr(8, slash == std::string::npos ? std::string::npos : slash - 8);
        rec.trigger = slash == std::string::npos ? std::string{} : e.stream.substr(slash + 1);
    }
    core::apply(rec, e);
}

void trigger_engine::foreign_event(const core::event& e) {
    if (e.stream.compare(0, 8, "trigger-") == 0) replay(e);
}

void trigger_engine::recovered() {
    recovering_ = false;
    std::size_t armed = 0;
    for (const auto* w : runner_->registry().latest()) {
        arm_workflow(w->id);
        armed += static_cast<std::size_t>(std::count_if(w->definition->triggers.begin(), w->definition->triggers.end(), is_schedule));
    }
    if (armed > 0) trigger_log(std::to_string(armed) + " schedule triggers armed");
}

void trigger_engine::workflow_registered(const std::string& workflow_id) {
    if (!recovering_) arm_workflow(workflow_id);
}

core::trigger_record& trigger_engine::record_of(const std::string& workflow, const std::string& trigger) {
    auto& rec = records_[core::trigger_stream(workflow, trigger)];
    rec.workflow = workflow;
    rec.trigger = trigger;
    return rec;
}

void trigger_engine::record(const std::string& workflow, const std::string& trigger, std::string_view type, core::json data) {
    auto& rec = record_of(workflow, trigger);
    auto e = core::make_trigger_event(rec, type, std::move(data), clock_.now_ms());
    core::apply(rec, e);
    store::write_batch batch;
    batch.events.push_back(std::move(e));
    port_.commit(std::move(batch), [] {});
}

// Re-reads the newest definition: arms its schedule triggers (a new or changed spec starts
// counting from now), forgets the ones it no longer has (their timers find no entry and stop).
void trigger_engine::arm_workflow(const std::string& workflow_id) {
    const auto* w = runner_->registry().find(workflow_id);
    for (auto it = schedules_.begin(); it != schedules_.end();)
        it = it->second.workflow == workflow_id ? schedules_.erase(it) : std::next(it);
    if (!w) return;
    for (const auto& t : w->definition->triggers) {
        if (!is_schedule(t)) continue;
        auto& rec = record_of(workflow_id, t.id);
        const auto spec = schedule_spec(t);
        if (rec.spec != spec) {
            // Several hubs arm every trigger (shared store): an interval counts from the version's
            // registration, the same instant on each, so their fire times and run keys agree and
            // the store starts one run per fire time.
            const auto anchor = port_.shared_store() ? w->registered_ms : clock_.now_ms();
            record(workflow_id, t.id, core::trigger_event::armed,
                   {{"workflow", workflow_id}, {"trigger", t.id}, {"spec", spec}, {"anchor_ms", anchor}});
        }
        armed_schedule a;
        a.workflow = workflow_id;
        a.def = t;
        try {
            a.schedule = core::trigger_schedule::make(t.cron, t.timezone, t.interval_ms, rec.anchor_ms);
        } catch (const core::error& e) {  // e.g. the tz database lost a zone since it was registered
            record(workflow_id, t.id, core::trigger_event::failed, {{"fire_ms", 0}, {"cause", "schedule"}, {"error", e.what()}});
            trigger_log("workflow " + workflow_id + " trigger " + t.id + " cannot be armed: " + e.what());
            continue;
        }
        a.decided_ms = std::max(rec.last_fire_ms, rec.anchor_ms);
        a.generation = ++generation_;
        const auto stream = core::trigger_stream(workflow_id, t.id);
        auto& slot = schedules_[stream] = std::move(a);
        tick(stream, slot.generation);
    }
}

void trigger_engine::schedule_timer(armed_schedule& a, const std::string& stream) {
    auto next = a.schedule.next_after(a.decided_ms);
    a.next_ms = next.value_or(0);
    if (!next) return;
    std::weak_ptr<trigger_engine> weak = weak_from_this();
    port_.after(std::max<std::int64_t>(0, *next - clock_.now_ms()), [weak, stream, gen = a.generation] {
        if (auto self = weak.lock()) self->tick(stream, gen);
    });
}

void trigger_engine::tick(const std::string& stream, std::uint64_t generation) {
    auto it = schedules_.find(stream);
    if (it == schedules_.end() || it->second.generation != generation) return;  // re-armed or removed
    auto& a = it->second;
    const auto now = clock_.now_ms();
    auto due = core::fires_due(a.schedule, a.decided_ms, now, a.def.catch_up, static_cast<std::size_t>(a.def.catch_up_limit),
                               opts_.grace_ms);
    if (due.skipped > 0) {
        a.decided_ms = std::max(a.decided_ms, due.skipped_until_ms);
        record(a.workflow, a.def.id, core::trigger_event::skipped,
               {{"count", due.skipped}, {"until_ms", due.skipped_until_ms}, {"reason", "missed while the hub was down"}});
    }
    for (auto fire_ms : due.fire) {
        a.decided_ms = fire_ms;
        if (at_capacity(stream, a.def)) {
            record(a.workflow, a.def.id, core::trigger_event::skipped,
                   {{"count", 1}, {"until_ms", fire_ms}, {"reason", "max_concurrent " + std::to_string(a.def.max_concurrent) + " reached"}});
            continue;
        }
        fire(a.workflow, a.def, fire_ms, "schedule", core::json::object(),
             "trigger:" + stream.substr(8) + "@" + std::to_string(fire_ms));
    }
    schedule_timer(a, stream);
}

bool trigger_engine::at_capacity(const std::string& stream, const core::workflow_trigger& t) const {
    if (t.max_concurrent <= 0) return false;
    int active = 0;
    if (auto s = schedules_.find(stream); s != schedules_.end()) active += s->second.starting;
    if (auto r = records_.find(stream); r != records_.end())
        for (const auto& id : r->second.recent_runs)
            if (const auto* run = runner_->find_run(id); run && !core::is_terminal(run->state)) ++active;
    return active >= t.max_concurrent;
}

void trigger_engine::fire(const std::string& workflow, const core::workflow_trigger& t, std::int64_t fire_ms,
                          const std::string& cause, core::json inputs, std::string idempotency_key, api_reply reply) {
    run_request req;
    req.workflow_id = workflow;
    req.inputs = std::move(inputs);
    req.idempotency_key = std::move(idempotency_key);
    const auto stream = core::trigger_stream(workflow, t.id);
    if (auto s = schedules_.find(stream); s != schedules_.end()) ++s->second.starting;
    std::weak_ptr<trigger_engine> weak = weak_from_this();
    auto started = [weak, workflow, id = t.id, stream, fire_ms, cause, reply](int status, const core::json& body) {
        auto self = weak.lock();
        if (!self) return;
        if (auto s = self->schedules_.find(stream); s != self->schedules_.end() && s->second.starting > 0) --s->second.starting;
        const auto run_id = body.value("id", std::string{});
        // 200: the idempotency key found the run this fire time already started (before a restart,
        // or on another hub, whose `fired` may be folded here already).
        const auto& rec = self->record_of(workflow, id);
        if (status == 201 || (status == 200 && rec.last_fire_ms < fire_ms))
            self->record(workflow, id, core::trigger_event::fired, {{"fire_ms", fire_ms}, {"run_id", run_id}, {"cause", cause}});
        if (reply) reply(status == 201 ? 202 : status, {{"run_id", run_id}, {"duplicate", status == 200}, {"run", body}});
    };
    try {
        runner_->start_run(std::move(req), started);
    } catch (const core::error& e) {
        if (auto s = schedules_.find(stream); s != schedules_.end() && s->second.starting > 0) --s->second.starting;
        record(workflow, t.id, core::trigger_event::failed, {{"fire_ms", fire_ms}, {"cause", cause}, {"error", e.what()}});
        trigger_log("workflow " + workflow + " trigger " + t.id + " (" + cause + ") started no run: " + e.what());
        if (reply) throw;
    }
}

core::json trigger_engine::list(const std::string& workflow_id) const {
    core::json out = core::json::array();
    for (const auto* w : runner_->registry().latest()) {
        if (!workflow_id.empty() && w->id != workflow_id) continue;
        for (const auto& t : w->definition->triggers) {
            const auto stream = core::trigger_stream(w->id, t.id);
            core::json row{{"workflow", w->id}, {"trigger", t.id}, {"type", core::to_string(t.type)}, {"enabled", t.enabled}};
            if (t.type == core::trigger_type::schedule) row["schedule"] = schedule_spec(t);
            if (t.type == core::trigger_type::event) row["event_type"] = t.event_type.empty() ? t.origin : t.event_type;
            if (t.type == core::trigger_type::webhook) row["path"] = "/api/v1/hooks/" + w->id + "/" + t.id;
            if (auto s = schedules_.find(stream); s != schedules_.end() && s->second.next_ms > 0)
                row["next_fire"] = core::format_time(s->second.next_ms);
            if (auto r = records_.find(stream); r != records_.end()) {
                row["fires"] = r->second.fires;
                row["skipped"] = r->second.skipped;
                row["failures"] = r->second.failures;
                if (!r->second.last_outcome.empty()) {
                    row["last_outcome"] = r->second.last_outcome;
                    row["last_at"] = core::format_time(r->second.last_outcome_ms);
                }
                if (!r->second.last_run.empty()) row["last_run"] = r->second.last_run;
            }
            out.push_back(std::move(row));
        }
    }
    return {{"triggers", std::move(out)}};
}

void trigger_engine::add_stats(core::json& stats) const {
    std::int64_t fires = 0, skipped = 0, failures = 0;
    for (const auto& [stream, r] : records_) fires += r.fires, skipped += r.skipped, failures += r.failures;
    stats["triggers"] = {{"armed", schedules_.size()}, {"fires", fires}, {"skipped", skipped}, {"failures", failures},
                         {"events", events_seen_}};
}

}  // namespace orbitmesh::engine
