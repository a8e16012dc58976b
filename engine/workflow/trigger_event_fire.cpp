// Event triggers (SPEC §4): posted events, job and run completions start the runs of the event
// triggers they match, with inputs mapped from the event.
#include <cstdio>

#include "core/error.hpp"
#include "core/expression.hpp"
#include "core/expression_template.hpp"
#include "core/ids.hpp"
#include "engine/workflow/trigger_engine.hpp"
#include "engine/workflow/trigger_mapping.hpp"

namespace orbitmesh::engine {

namespace {

// The original's files read the finished job as `trigger.jobId`, `trigger.command`, …
core::json original_names(const core::json& data) {
    if (!data.is_object() || !data.contains("id")) return data;
    core::json t = data;
    t["jobId"] = data["id"];
    t["command"] = data.value("command", data.contains("spec") ? data["spec"].value("command", std::string{}) : std::string{});
    if (data.contains("agent") && data["agent"].is_object()) t["agentId"] = data["agent"].value("id", std::string{});
    t["error"] = data.value("error", std::string{});
    return t;
}

bool event_matches(const std::string& workflow, const core::workflow_trigger& t, const std::string& type, const core::json& data) {
    if (t.origin == "job_completion") return type == job_finished_event && job_completion_matches(t, data);
    if (t.origin == "file_watch") return type == file_changed_event && file_event_matches(t, workflow, data);
    return glob_match(t.event_type, type);
}

// The workflow that started the run a job or run belongs to: its own events never trigger it
// (a `job.failed` cleanup workflow whose cleanup fails would otherwise start itself forever).
std::string owner_run_of(const std::string& type, const core::json& data) {
    if (type.compare(0, 4, "run.") == 0) return data.value("id", std::string{});
    if (type.compare(0, 4, "job.") != 0 || !data.is_object()) return {};
    const auto key = data.contains("spec") && data["spec"].is_object() ? data["spec"].value("idempotency_key", std::string{})
                                                                      : data.value("idempotency_key", std::string{});
    if (key.compare(0, 4, "run-") != 0) return {};
    return key.substr(4, key.find('/') == std::string::npos ? std::string::npos : key.find('/') - 4);
}

}  // namespace

core::json map_inputs(const core::workflow_trigger& t, const core::json& context) {
    core::json inputs = core::json::object();
    if (!t.input_mapping.is_object()) return inputs;
    for (const auto& [name, expr] : t.input_mapping.items())
        if (expr.is_string()) inputs[name] = core::evaluate(core::parse_expression_field(expr.get<std::string>()), context);
    return inputs;
}

bool trigger_engine::any_event_trigger() const {
    for (const auto* w : runner_->registry().latest())
        for (const auto& t : w->definition->triggers)
            if (t.enabled && t.type == core::trigger_type::event) return true;
    return false;
}

int trigger_engine::on_event(const std::string& type, const core::json& data, const std::string& correlation_key) {
    ++events_seen_;
    if (!any_event_trigger()) return 0;
    const std::string owner_run = owner_run_of(type, data);
    const auto* owner = owner_run.empty() ? nullptr : runner_->find_run(owner_run);
    // Made on the first trigger the event matches: most events match none.
    std::string occurrence;
    core::json context;
    int started = 0;
    for (const auto* w : runner_->registry().latest()) {
        if (owner && owner->workflow_id == w->id) continue;
        for (const auto& t : w->definition->triggers) {
            if (!t.enabled || t.type != core::trigger_type::event || !event_matches(w->id, t, type, data)) continue;
            if (occurrence.empty()) {
                occurrence = core::new_id();
                context = {{"event", {{"type", type}, {"data", data}, {"correlation_key", correlation_key}}},
                           {"data", data},
                           {"trigger", original_names(data)}};
            }
            core::json inputs;
            try {
                if (!t.filter.empty() && !core::truthy(core::evaluate(core::parse_expression_field(t.filter), context))) continue;
                inputs = map_inputs(t, context);
            } catch (const core::error& e) {
                record(w->id, t.id, core::trigger_event::failed,
                       {{"fire_ms", clock_.now_ms()}, {"cause", "event " + type}, {"error", e.what()}});
                continue;
            }
            fire(w->id, t, clock_.now_ms(), "event " + type, std::move(inputs),
                 "trigger:" + w->id + "/" + t.id + "@event:" + occurrence);
            ++started;
        }
    }
    return started;
}

void trigger_engine::job_ended(const core::job_record& job) {
    if (recovering_) return;
    // Every job's end passes here: without event triggers, skip building its JSON twice over
    // (it was a fifth of the hub's CPU at 10,000 jobs/s).
    if (!any_event_trigger()) {
        events_seen_ += 2;
        return;
    }
    const auto data = core::to_json(job);
    on_event("job." + std::string(core::to_string(job.state)), data, job.id);
    on_event(std::string(job_finished_event), data, job.id);
}

}  // namespace orbitmesh::engine
