#include "core/trigger_events.hpp"

#include <algorithm>

namespace orbitmesh::core {

namespace {
constexpr std::size_t max_recent_runs = 1000;  // bounds the memory of a trigger that fires fast
}

std::string trigger_stream(std::string_view workflow, std::string_view trigger) {
    return "trigger-" + std::string(workflow) + "/" + std::string(trigger);
}

void apply(trigger_record& t, const event& e) {
    const auto& d = e.data;
    t.version = e.version;
    if (e.type == trigger_event::armed) {
        t.workflow = d.value("workflow", t.workflow);
        t.trigger = d.value("trigger", t.trigger);
        t.spec = d.value("spec", std::string{});
        t.anchor_ms = d.value("anchor_ms", e.time_ms);
        return;
    }
    if (e.type != trigger_event::fired && e.type != trigger_event::skipped && e.type != trigger_event::failed) return;
    const auto at = e.type == trigger_event::skipped ? d.value("until_ms", std::int64_t{0}) : d.value("fire_ms", std::int64_t{0});
    t.last_fire_ms = std::max(t.last_fire_ms, at);
    t.last_outcome_ms = e.time_ms;
    if (e.type == trigger_event::fired) {
        ++t.fires;
        t.last_outcome = "fired";
        t.last_run = d.value("run_id", std::string{});
        t.recent_runs.push_back(t.last_run);
        if (t.recent_runs.size() > max_recent_runs) t.recent_runs.erase(t.recent_runs.begin());
    } else if (e.type == trigger_event::skipped) {
        t.skipped += d.value("count", std::int64_t{1});
        t.last_outcome = "skipped: " + d.value("reason", std::string{});
    } else {
        ++t.failures;
        t.last_outcome = "failed: " + d.value("error", std::string{});
    }
}

event make_trigger_event(const trigger_record& t, std::string_view type, json data, std::int64_t time_ms) {
    return make_event(trigger_stream(t.workflow, t.trigger), t.version, type, std::move(data), time_ms);
}

}  // namespace orbitmesh::core
