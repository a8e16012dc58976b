#include "engine/replay/chrome_trace.hpp"

#include <algorithm>
#include <map>
#include <vector>

#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/run_events.hpp"
#include "core/traceparent.hpp"

namespace orbitmesh::engine::replay {

namespace {

struct span {
    std::string track;  // lanes are added per track
    std::string name, cat;
    std::int64_t begin_ms = 0, end_ms = 0;
    core::json args = core::json::object();
};

constexpr int run_pid = 1, agents_pid = 2, queue_pid = 3;

std::string str(const core::json& d, const char* k) { return d.is_object() ? d.value(k, std::string{}) : std::string{}; }
int attempt_of(const core::json& d) { return d.is_object() && d.contains("attempt") && d["attempt"].is_number() ? d["attempt"].get<int>() : 0; }

/// Steps: from their first step.started (or step.waiting) to step.finished.
void step_spans(const timeline& t, std::int64_t last_ms, std::vector<span>& out) {
    std::map<std::string, span> open;
    std::vector<std::string> order;
    for (const auto& e : t.events) {
        if (e.stream.rfind("run-", 0) != 0) continue;
        const auto path = str(e.data, "path");
        if (path.empty()) continue;
        if (e.type == core::run_event::step_started || e.type == core::run_event::step_waiting) {
            auto [it, fresh] = open.try_emplace(path);
            if (fresh) {
                it->second = {"steps", path, "step", e.time_ms, 0, {{"type", str(e.data, "type")}, {"state", "running"}}};
                order.push_back(path);
            }
            if (e.type == core::run_event::step_started) it->second.args["attempts"] = attempt_of(e.data);
        } else if (e.type == core::run_event::step_finished) {
            auto it = open.find(path);
            if (it == open.end()) continue;
            it->second.end_ms = e.time_ms;
            it->second.args["state"] = str(e.data, "state");
            if (!str(e.data, "error").empty()) it->second.args["error"] = str(e.data, "error");
            if (!str(e.data, "agent").empty()) it->second.args["agent"] = str(e.data, "agent");
        }
    }
    for (const auto& path : order) {
        auto s = open[path];
        if (s.end_ms == 0) s.end_ms = last_ms;
        out.push_back(std::move(s));
    }
}

/// Attempts (job.assigned to its outcome) on their agent's track, and queue waits (the job
/// pending: submitted or back in the queue, until assigned).
void job_spans(const timeline& t, std::int64_t last_ms, std::vector<span>& out) {
    struct job_state {
        std::string name;
        std::int64_t queued_ms = 0;
        std::optional<span> attempt;
        std::string traceparent;  // the job's own W3C context (its trace, its span)
    };
    std::map<std::string, job_state> jobs;
    std::map<std::string, std::string> step_of;  // job id -> step path
    for (const auto& e : t.events)
        if (e.type == core::run_event::step_started)
            for (const auto& id : e.data.value("job_ids", std::vector<std::string>{})) step_of[id] = str(e.data, "path");
    auto close_attempt = [&](job_state& j, std::int64_t at, const std::string& outcome) {
        if (!j.attempt) return;
        j.attempt->end_ms = at;
        j.attempt->args["outcome"] = outcome;
        out.push_back(std::move(*j.attempt));
        j.attempt.reset();
    };
    for (const auto& e : t.events) {
        if (e.stream.rfind("job-", 0) != 0) continue;
        const auto id = e.stream.substr(4);
        auto& j = jobs[id];
        if (j.name.empty()) j.name = step_of.count(id) ? step_of[id] : id.substr(0, 8);
        const auto& d = e.data;
        if (e.type == core::job_event::submitted || e.type == core::job_event::retried) {
            j.queued_ms = e.time_ms;
            if (e.type == core::job_event::submitted && d.is_object() && d.contains("spec"))
                j.traceparent = core::job_traceparent(str(d["spec"], "trace"), id);
        } else if (e.type == core::job_event::assigned) {
            if (j.queued_ms > 0)
                out.push_back({"queue", j.name + " queued", "queue", j.queued_ms, e.time_ms, {{"job", id}, {"attempt", attempt_of(d)}}});
            j.queued_ms = 0;
            j.attempt = span{str(d, "agent_name").empty() ? str(d, "agent_id") : str(d, "agent_name"),
                             j.name + " #" + std::to_string(attempt_of(d)), "attempt", e.time_ms, 0,
                             {{"job", id}, {"attempt", attempt_of(d)}, {"agent_id", str(d, "agent_id")}}};
            if (!j.traceparent.empty()) {
                j.attempt->args["traceparent"] = j.traceparent;
                j.attempt->args["trace_id"] = j.traceparent.substr(3, 32);
            }
        } else if (e.type == core::job_event::finished || e.type == core::job_event::dead) {
            close_attempt(j, e.time_ms, e.type == core::job_event::dead ? "dead" : str(d, "state"));
        } else if (e.type == core::job_event::retry_scheduled || e.type == core::job_event::requeued) {
            close_attempt(j, e.time_ms, e.type == core::job_event::requeued ? "requeued: " + str(d, "reason") : "failed, retrying");
            j.queued_ms = e.time_ms;
        }
    }
    for (auto& [id, j] : jobs) {
        close_attempt(j, last_ms, "unfinished");
        if (j.queued_ms > 0) out.push_back({"queue", j.name + " queued", "queue", j.queued_ms, last_ms, {{"job", id}, {"state", "pending"}}});
    }
}

}  // namespace

core::json chrome_trace(const timeline& t) {
    if (t.kind == "agent")
        throw core::error(core::error_kind::usage, "--export chrome-trace takes a run or a job id, not an agent");
    if (t.events.empty()) throw core::error(core::error_kind::not_found, t.kind + " " + t.id + " has no events to trace");
    const std::int64_t t0 = t.events.front().time_ms, last = t.events.back().time_ms;
    std::vector<span> spans;
    step_spans(t, last, spans);
    job_spans(t, last, spans);
    std::sort(spans.begin(), spans.end(), [](const span& a, const span& b) { return a.begin_ms < b.begin_ms; });
    // Lanes: a span goes on the first lane of its track that is free by its start, so no lane
    // holds two overlapping spans (trace viewers expect complete events on one thread to nest).
    std::map<std::pair<int, std::string>, std::vector<std::int64_t>> lanes;  // (pid, track) -> end of each lane
    std::map<std::pair<int, int>, std::string> names;                       // (pid, tid) -> lane name
    std::map<int, int> next_tid;
    std::map<std::pair<int, std::string>, std::vector<int>> tids;
    core::json events = core::json::array();
    for (const auto& s : spans) {
        const int pid = s.cat == "step" ? run_pid : s.cat == "attempt" ? agents_pid : queue_pid;
        auto& ends = lanes[{pid, s.track}];
        auto& ids = tids[{pid, s.track}];
        std::size_t lane = 0;
        while (lane < ends.size() && ends[lane] > s.begin_ms) ++lane;
        if (lane == ends.size()) {
            ends.push_back(0);
            ids.push_back(++next_tid[pid]);
            names[{pid, ids.back()}] = lane == 0 ? s.track : s.track + " #" + std::to_string(lane + 1);
        }
        ends[lane] = std::max(s.end_ms, s.begin_ms + 1);
        events.push_back({{"name", s.name}, {"cat", s.cat}, {"ph", "X"}, {"pid", pid}, {"tid", ids[lane]},
                          {"ts", (s.begin_ms - t0) * 1000}, {"dur", std::max<std::int64_t>(s.end_ms - s.begin_ms, 0) * 1000},
                          {"args", s.args}});
    }
    const std::string title = t.kind + " " + t.id + (t.state.contains("workflow") ? " (" + str(t.state["workflow"], "id") + ")" : "");
    for (const auto& [pid, label] : std::vector<std::pair<int, std::string>>{{run_pid, title}, {agents_pid, "agents"}, {queue_pid, "queue"}})
        events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", pid}, {"tid", 0}, {"args", {{"name", label}}}});
    for (const auto& [key, label] : names)
        events.push_back({{"name", "thread_name"}, {"ph", "M"}, {"pid", key.first}, {"tid", key.second}, {"args", {{"name", label}}}});
    return {{"traceEvents", std::move(events)},
            {"displayTimeUnit", "ms"},
            {"otherData", {{"kind", t.kind}, {"id", t.id}, {"until", t.until}, {"start", t0}}}};
}

}  // namespace orbitmesh::engine::replay
