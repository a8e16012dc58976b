// The original's job_completion and file_watch triggers as event triggers.
#include "engine/workflow/trigger_mapping.hpp"

#include <fnmatch.h>

#include <algorithm>

namespace orbitmesh::engine {

namespace {

bool agent_matches(const std::string& pattern, const core::json& agent) {
    if (pattern.empty() || pattern == "*") return true;
    if (!agent.is_object()) return glob_match(pattern, agent.is_string() ? agent.get<std::string>() : "");
    return glob_match(pattern, core::string_at(agent, "name")) || glob_match(pattern, core::string_at(agent, "id"));
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text) {
    if (pattern.empty() || pattern == "*") return true;
    return ::fnmatch(std::string(pattern).c_str(), std::string(text).c_str(), 0) == 0;
}

bool job_completion_matches(const core::workflow_trigger& t, const core::json& job) {
    if (t.origin != "job_completion" || !job.is_object()) return false;
    const std::string state = core::string_at(job, "state");
    static const std::vector<std::string> ends{"succeeded", "failed", "cancelled", "timed_out", "dead"};
    const auto& wanted = t.job_states.empty() ? ends : t.job_states;
    if (std::find(wanted.begin(), wanted.end(), state) == wanted.end()) return false;
    std::string command = core::string_at(job, "command");
    if (command.empty() && job.contains("spec") && job["spec"].is_object()) command = core::string_at(job["spec"], "command");
    if (!glob_match(t.command_pattern, command)) return false;
    return agent_matches(t.agent_pattern, job.contains("agent") ? job["agent"] : core::json(core::string_at(job, "agent_name")));
}

bool file_event_matches(const core::workflow_trigger& t, const std::string& workflow_id, const core::json& event) {
    if (t.origin != "file_watch" || !event.is_object()) return false;
    if (core::string_at(event, "watch_id") != file_watch_id(workflow_id, t)) return false;
    const std::string change = core::string_at(event, "change");
    if (!t.change_types.empty() && std::find(t.change_types.begin(), t.change_types.end(), change) == t.change_types.end())
        return false;
    return agent_matches(t.agent_pattern, event.contains("agent") ? event["agent"] : core::json());
}

std::string file_watch_id(const std::string& workflow_id, const core::workflow_trigger& t) { return workflow_id + "/" + t.id; }

core::job_spec file_watch_job(const std::string& workflow_id, const core::workflow_trigger& t) {
    core::job_spec spec;
    spec.command = std::string(file_watch_command);
    spec.target.agent = t.agent_pattern;
    spec.payload = {{"watch_id", file_watch_id(workflow_id, t)},
                    {"path", t.watch_path},
                    {"filter", t.watch_filter},
                    {"include_subdirectories", t.include_subdirectories},
                    {"change_types", t.change_types},
                    {"debounce_ms", t.debounce_ms}};
    return spec;
}

}  // namespace orbitmesh::engine
