#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.hpp"
#include "core/json.hpp"

namespace orbitmesh::core {

/// Event types of an agent's twin stream ("twin-<agent id>", SPEC §7).
namespace twin_event {
inline constexpr std::string_view desired = "twin.desired";    // {patch, version, by}: operators changed desired keys
inline constexpr std::string_view reported = "twin.reported";  // {reported, version}: the agent's whole reported half
}  // namespace twin_event

/// Both halves of an agent's twin. `desired` is what operators ask for (`labels`, `drain`,
/// `concurrency`, any other keys); `reported` is what the agent says it detected and applied.
/// Each half is versioned on its own. Plain data.
struct twin_record {
    std::string agent_id;
    json desired = json::object();
    std::int64_t desired_version = 0;
    std::int64_t desired_ms = 0;
    json reported = json::object();
    std::int64_t reported_version = 0;
    std::int64_t reported_ms = 0;
    std::int64_t version = 0;  // events in its stream
};

std::string twin_stream(std::string_view agent_id);

/// Folds one event (unknown types are ignored, so older hubs read newer logs).
void apply(twin_record& t, const event& e);
event make_twin_event(const twin_record& t, std::string_view type, json data, std::int64_t time_ms);

/// RFC 7386 JSON merge patch: objects merge key by key, null deletes, anything else replaces.
json merge_patch(json target, const json& patch);

/// Desired keys whose reported value differs: {KEY: {desired, reported}} (empty = no drift).
json twin_drift(const twin_record& t);
/// Whether operators asked the agent to drain (desired.drain is true).
bool twin_draining(const twin_record& t) noexcept;
/// `{agent_id, desired, desired_version, reported, reported_version, drift}` for the API.
json to_json(const twin_record& t);

/// `KEY=VALUE` of `twin set`: VALUE is read as JSON when it parses (true, 4, "x", {…}) and as
/// text otherwise; an empty VALUE deletes the key; dots nest (`labels.zone=eu`). Throws
/// core::error{usage} for a word without `=` or an empty key.
json twin_patch_from_words(const std::vector<std::string>& words);

}  // namespace orbitmesh::core
