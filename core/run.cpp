#include "core/run.hpp"

#include <algorithm>
#include <array>

#include "core/clock.hpp"

namespace orbitmesh::core {

namespace {

constexpr std::array<std::string_view, 8> run_names{"pending", "running", "waiting", "paused",
                                                    "succeeded", "failed", "cancelled", "timed_out"};
constexpr std::array<std::string_view, 10> step_names{"pending",  "running",   "waiting",   "succeeded",    "failed",
                                                      "skipped",  "cancelled", "timed_out", "compensating", "compensated"};

json time_or_null(std::int64_t ms) { return ms > 0 ? json(format_time(ms)) : json(); }

json step_json(const step_record& s) {
    json j{{"id", s.id},           {"path", s.path},         {"type", s.type},
           {"state", to_string(s.state)}, {"attempts", s.attempts}, {"output", s.output},
           {"error", s.error},     {"job_id", s.job_ids.empty() ? "" : s.job_ids.front()},
           {"started_at", time_or_null(s.started_ms)}, {"finished_at", time_or_null(s.finished_ms)}};
    if (s.job_ids.size() > 1) j["job_ids"] = s.job_ids;
    j["agent"] = s.agent.empty() ? json() : json(s.agent);
    j["duration_ms"] = (s.started_ms > 0 && s.finished_ms >= s.started_ms) ? json(s.finished_ms - s.started_ms) : json();
    if (s.state == step_state::waiting) j["waiting"] = {{"kind", s.wait.kind}, {"until", time_or_null(s.wait.until_ms)}};
    if (!s.wait.message.empty()) j["message"] = s.wait.message;
    if (!s.approvals.empty()) {
        j["approvals"] = json::array();
        for (const auto& a : s.approvals)
            j["approvals"].push_back({{"approver", a.approver}, {"reject", a.reject}, {"comment", a.comment}});
    }
    if (s.detail.contains("child_run")) j["child_run"] = s.detail["child_run"];
    return j;
}

/// The path of the container a step belongs to: `par/b` -> `par`, `each[2]/x` -> `each`.
std::string parent_path(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return {};
    auto p = path.substr(0, slash);
    if (!p.empty() && p.back() == ']') p = p.substr(0, p.rfind('['));
    return p;
}

}  // namespace

std::string_view to_string(run_state s) noexcept { return run_names[static_cast<std::size_t>(s)]; }
std::optional<run_state> parse_run_state(std::string_view s) noexcept {
    for (std::size_t i = 0; i < run_names.size(); ++i)
        if (run_names[i] == s) return static_cast<run_state>(i);
    return std::nullopt;
}
bool is_terminal(run_state s) noexcept {
    return s == run_state::succeeded || s == run_state::failed || s == run_state::cancelled || s == run_state::timed_out;
}

std::string_view to_string(step_state s) noexcept { return step_names[static_cast<std::size_t>(s)]; }
std::optional<step_state> parse_step_state(std::string_view s) noexcept {
    for (std::size_t i = 0; i < step_names.size(); ++i)
        if (step_names[i] == s) return static_cast<step_state>(i);
    return std::nullopt;
}
bool is_terminal(step_state s) noexcept {
    return s != step_state::pending && s != step_state::running && s != step_state::waiting;
}

step_record* run_record::find(const std::string& path) {
    auto it = steps.find(path);
    return it == steps.end() ? nullptr : &it->second;
}
const step_record* run_record::find(const std::string& path) const {
    auto it = steps.find(path);
    return it == steps.end() ? nullptr : &it->second;
}

json run_outputs(const run_record& r) {
    json out = json::object();
    for (const auto& [path, s] : r.steps)
        if (path.find('/') == std::string::npos) out[s.id] = s.output;
    return out;
}

json to_json(const run_record& r) {
    auto state = r.state;
    if (state == run_state::running && r.paused) state = run_state::paused;
    if (state == run_state::running) {
        bool waiting = false, running = false;
        for (const auto& [p, s] : r.steps) {
            waiting = waiting || s.state == step_state::waiting;
            running = running || (s.state == step_state::running && s.type != "parallel" && s.type != "foreach" &&
                                  s.type != "conditional");
        }
        if (waiting && !running) state = run_state::waiting;
    }
    // Children are listed under their container, in path order (the map's order).
    std::map<std::string, json> by_path;
    json top = json::array();
    std::vector<std::pair<std::string, std::string>> order;
    for (const auto& [path, s] : r.steps) {
        by_path[path] = step_json(s);
        order.emplace_back(path, parent_path(path));
    }
    for (auto it = order.rbegin(); it != order.rend(); ++it) {
        if (it->second.empty() || !by_path.count(it->second)) continue;
        auto& kids = by_path[it->second]["children"];
        if (kids.is_null()) kids = json::array();
        kids.insert(kids.begin(), std::move(by_path[it->first]));
    }
    for (const auto& [path, parent] : order)
        if (parent.empty() || !by_path.count(parent)) top.push_back(std::move(by_path[path]));
    // Top-level steps in file order when the definition is known (people read the table against
    // the file), else in the order they started (pending ones last); never by id.
    auto rank = [&](const json& s) {
        auto it = std::find(r.step_order.begin(), r.step_order.end(), s.value("id", std::string{}));
        return it - r.step_order.begin();
    };
    std::stable_sort(top.begin(), top.end(), [&](const json& a, const json& b) {
        if (!r.step_order.empty()) return rank(a) < rank(b);
        if (a["started_at"].is_null() != b["started_at"].is_null()) return b["started_at"].is_null();
        return !a["started_at"].is_null() && a["started_at"].get<std::string>() < b["started_at"].get<std::string>();
    });
    // `needs` on top-level steps when the run recorded them (runs started before it did have none).
    if (!r.step_order.empty())
        for (auto& s : top) {
            auto it = r.step_needs.find(s.value("id", std::string{}));
            s["needs"] = it == r.step_needs.end() ? json::array() : json(it->second);
        }
    json comps = json::array();
    for (const auto& c : r.compensations)
        comps.push_back({{"step", c.step}, {"state", c.state}, {"job_id", c.job_id}, {"error", c.error}, {"attempts", c.attempts}});
    json j{{"id", r.id},
           {"state", to_string(state)},
           {"workflow", {{"id", r.workflow_id}, {"name", r.workflow_name}, {"version", r.workflow_version}}},
           {"inputs", r.inputs},
           {"error", r.error},
           {"created_at", time_or_null(r.created_ms)},
           {"started_at", time_or_null(r.started_ms)},
           {"finished_at", time_or_null(r.finished_ms)},
           {"steps", std::move(top)},
           {"compensations", std::move(comps)},
           {"outputs", run_outputs(r)}};
    if (!r.parent_run.empty()) j["parent"] = {{"run", r.parent_run}, {"step", r.parent_step}};
    if (!r.idempotency_key.empty()) j["idempotency_key"] = r.idempotency_key;
    return j;
}

}  // namespace orbitmesh::core
