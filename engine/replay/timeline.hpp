#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/json.hpp"

namespace orbitmesh::store {
class event_scan;
}

namespace orbitmesh::engine::replay {

/// One object's history as `orbitmesh replay ID` shows it: a job (its stream), a run (its
/// stream and the streams of every job it started), an agent (its stream and every attempt it
/// was given) or a workflow (its registrations), folded up to `until`.
struct timeline {
    std::string kind;  // job | run | agent | workflow
    std::string id;
    std::int64_t until = 0;             // last seq folded
    std::vector<core::event> events;    // in seq order
    core::json state;                   // the object's record after the last event
    core::json jobs = core::json::array();  // a run's or an agent's jobs, as they were then
};

/// `SEQ` (a number) or a UTC time (`2026-12-03T14:35:09Z`, with optional `.mmm`): the last seq
/// to fold. Throws core::error{usage} for anything else. 0 (no limit) for "".
std::int64_t resolve_until(store::event_scan& log, std::string_view until);

/// Loads the history of `id` (a job id, run id, agent id or agent name; `job-ID` style stream
/// names too). Throws core::error{not_found} naming what was looked for.
timeline load_timeline(const std::filesystem::path& file, const std::string& id, std::int64_t until);

core::json to_json(const timeline& t);
/// One line for people: "attempt 2 → agent web1", "build succeeded", ...
std::string describe(const core::event& e);

}  // namespace orbitmesh::engine::replay
