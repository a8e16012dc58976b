#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"

namespace orbitmesh::core {

/// Event types of a trigger stream ("trigger-<workflow>/<trigger>", SPEC §4). Fire times are
/// decided once and recorded, so a restarted hub resumes after the last one: it neither skips a
/// fire time nor fires one twice (the run a fire starts carries the idempotency key
/// `trigger:<workflow>/<trigger>@<fire_ms>`, so a fire committed as a run but not yet as an event
/// finds its run again).
namespace trigger_event {
inline constexpr std::string_view armed = "trigger.armed";      // {workflow, trigger, spec, anchor_ms}: (re)started counting
inline constexpr std::string_view fired = "trigger.fired";      // {fire_ms, run_id, cause}: a run started
inline constexpr std::string_view skipped = "trigger.skipped";  // {count, until_ms, reason}: fire times dropped
inline constexpr std::string_view failed = "trigger.failed";    // {fire_ms, cause, error}: decided but no run
}  // namespace trigger_event

/// What the hub knows of one trigger from its stream.
struct trigger_record {
    std::string workflow;
    std::string trigger;
    std::string spec;             // what it was armed with ("cron 0 3 * * * Europe/Berlin", "interval 1000")
    std::int64_t anchor_ms = 0;   // when it was armed
    std::int64_t last_fire_ms = 0;  // the newest decided fire time (fired, skipped or failed); 0 = none
    std::int64_t fires = 0;
    std::int64_t skipped = 0;
    std::int64_t failures = 0;
    std::string last_outcome;     // "fired", "skipped: REASON", "failed: ERROR"
    std::string last_run;
    std::int64_t last_outcome_ms = 0;
    std::vector<std::string> recent_runs;  // runs it started that may still be running (bounded)
    std::int64_t version = 0;
};

std::string trigger_stream(std::string_view workflow, std::string_view trigger);

/// Folds one event into the record (any order is accepted: a trigger stream has no illegal
/// transitions, only facts). Unknown types are ignored, so older hubs can read newer logs.
void apply(trigger_record& t, const event& e);

/// The next event of the trigger's stream (version = t.version + 1) at `time_ms`.
event make_trigger_event(const trigger_record& t, std::string_view type, json data, std::int64_t time_ms);

}  // namespace orbitmesh::core
