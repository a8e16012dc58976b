// The original's `job_completion` and `file_watch` triggers, read into event triggers.
#include "engine/workflow/original_triggers.hpp"

#include <algorithm>
#include <cctype>

#include "engine/workflow/trigger_mapping.hpp"

namespace orbitmesh::engine {

namespace {

std::string lower_alnum(std::string_view s) {
    std::string out;
    for (char c : s)
        if (std::isalnum(static_cast<unsigned char>(c))) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// The original's job statuses (Completed, Failed, …) and ours, to our state names.
std::optional<std::string> job_state_name(std::string_view s) {
    const std::string k = lower_alnum(s);
    if (k == "completed" || k == "succeeded" || k == "success") return "succeeded";
    if (k == "failed" || k == "error" || k == "faulted") return "failed";
    if (k == "cancelled" || k == "canceled") return "cancelled";
    if (k == "timedout" || k == "timeout") return "timed_out";
    if (k == "dead") return "dead";
    return std::nullopt;
}

std::optional<std::string> change_type_name(std::string_view s) {
    const std::string k = lower_alnum(s);
    if (k == "created" || k == "create") return "created";
    if (k == "modified" || k == "changed" || k == "modify") return "modified";
    if (k == "deleted" || k == "delete" || k == "removed") return "deleted";
    if (k == "renamed" || k == "rename" || k == "moved") return "renamed";
    return std::nullopt;
}

void read_job_completion(map_reader& r, core::workflow_trigger& t) {
    t.event_type = std::string(job_finished_event);
    auto pattern = r.text("command_pattern").value_or("*");
    t.command_pattern = pattern == "*" ? "" : pattern;
    for (const auto& s : r.text_list("statuses")) {
        if (auto name = job_state_name(s)) t.job_states.push_back(*name);
        else r.error(*r.get("statuses"), "statuses", in_quotes(s) + " is not a job status",
                     "use Completed, Failed, Cancelled, TimedOut (or succeeded, failed, cancelled, timed_out, dead)");
    }
}

void read_file_watch(map_reader& r, core::workflow_trigger& t) {
    t.event_type = std::string(file_changed_event);
    if (r.has("watch_path") && r.has("path"))
        r.sink().error(r.node().find("path")->key_pos, r.owner() + " has both watch_path and path", "keep watch_path");
    const char* path_key = r.has("path") ? "path" : "watch_path";
    if (r.require(path_key, "watch_path: the directory the agent watches")) {
        check_value(*r.get(path_key), r.sink(), r.owner() + " " + path_key);
        t.watch_path = r.text(path_key).value_or("");
    }
    if (r.has("filter") && r.has("watch_filter"))
        r.sink().error(r.node().find("watch_filter")->key_pos, r.owner() + " has both filter and watch_filter", "keep one");
    t.watch_filter = r.text(r.has("watch_filter") ? "watch_filter" : "filter").value_or("*");
    t.include_subdirectories = r.boolean("include_subdirectories").value_or(true);
    for (const auto& c : r.text_list("change_types")) {
        if (auto name = change_type_name(c)) t.change_types.push_back(*name);
        else r.error(*r.get("change_types"), "change_types", in_quotes(c) + " is not a change type",
                     "use Created, Modified, Deleted or Renamed");
    }
    t.debounce_ms = r.integer("debounce_ms", 0, 3'600'000).value_or(1000);
}

}  // namespace

bool is_original_trigger(std::string_view type) noexcept { return type == "job_completion" || type == "file_watch"; }

void read_original_trigger(std::string_view type, map_reader& r, core::workflow_trigger& t) {
    t.origin = std::string(type);
    if (type == "job_completion") read_job_completion(r, t);
    else read_file_watch(r, t);
    auto agents = r.text("agent_pattern").value_or("*");
    t.agent_pattern = agents == "*" ? "" : agents;
    read_input_mapping(r, t);
}

std::vector<std::string_view> original_trigger_keys(std::string_view type) {
    std::vector<std::string_view> keys = {"id", "name", "type", "enabled", "agent_pattern", "input_mapping"};
    if (type == "job_completion") {
        keys.insert(keys.end(), {"command_pattern", "statuses"});
    } else {
        keys.insert(keys.end(), {"watch_path", "path", "filter", "watch_filter", "include_subdirectories", "change_types",
                                 "debounce_ms"});
    }
    return keys;
}

}  // namespace orbitmesh::engine
