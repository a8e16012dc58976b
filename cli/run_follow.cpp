#include "cli/run_follow.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <map>
#include <set>
#include <unistd.h>

#include "cli/output.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"

namespace orbitmesh::cli {

namespace {

using steady = std::chrono::steady_clock;

/// The step an event is about: `step` in the HTTP contract, `path` (`each[2]/upload`) in the store.
std::string event_step(const core::json& ev) {
    std::string s = core::string_at(ev, "step");
    return s.empty() ? core::string_at(ev, "path") : s;
}

bool step_done(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "skipped" || s == "cancelled" || s == "timed_out" ||
           s == "compensated";
}

/// The live one-line display: steps done/total and the names of running steps.
class progress {
public:
    progress(std::size_t total, bool live) : total_(total), live_(live), started_(steady::now()) {}

    void on_event(const core::json& ev) {
        std::string type = core::string_at(ev, "type"), step = event_step(ev);
        if (step.empty()) return;
        if (type == "step.started" || type == "step.waiting" || type == "step.compensating") running_[step] = type;
        if (type == "step.finished" || type == "step.skipped" || type == "step.compensated") {
            running_.erase(step);
            bool top_level = step.find_first_of("[/") == std::string::npos;
            if (type != "step.compensated" && top_level) done_.insert(step);
        }
        if (step.find_first_of("[/") == std::string::npos) seen_.insert(step);
    }
    void draw() {
        if (!live_) return;
        std::string line = "\r\033[K";
        line.append(std::to_string(done_.size())).append("/").append(std::to_string(std::max(total_, seen_.size())));
        line.append(" steps done, ").append(core::format_duration(elapsed_ms()));
        std::string names;
        for (const auto& [id, why] : running_) {
            if (names.size() > 60) break;
            names.append(names.empty() ? "" : ", ").append(id).append(why == "step.waiting" ? " (waiting)" : "");
        }
        if (!names.empty()) line.append(" | ").append(names);
        std::fputs(line.c_str(), stderr);
        std::fflush(stderr);
        shown_ = true;
    }
    void clear() {
        if (shown_) std::fputs("\r\033[K", stderr);
        shown_ = false;
    }

private:
    std::int64_t elapsed_ms() const {
        return std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - started_).count();
    }
    std::size_t total_;
    bool live_, shown_ = false;
    steady::time_point started_;
    std::set<std::string> done_, seen_;
    std::map<std::string, std::string> running_;
};

/// A step log line (`step.log`) as text, whatever the hub names the field.
std::string log_text(const core::json& ev) {
    for (const char* key : {"data", "line", "message", "text"})
        if (auto t = core::string_at(ev, key); !t.empty()) return t;
    return {};
}

void print_log_line(const core::json& ev, progress& bar) {
    std::string text = log_text(ev);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    bar.clear();
    std::cerr << "[" << event_step(ev) << "] " << text << '\n' << std::flush;
}

std::string poll_target(const std::string& run_id, std::int64_t after, std::chrono::milliseconds wait) {
    return "/api/v1/runs/" + url_encode(run_id) + "/events?after=" + std::to_string(after) +
           "&wait=" + std::to_string(std::max<std::int64_t>(1, wait.count() / 1000)) + "s";
}

/// The hub's wait per poll: 25 s, 1 s when a live line shows the clock, never past the deadline.
std::chrono::milliseconds next_wait(const follow_options& o, bool live) {
    std::chrono::milliseconds w = live ? std::chrono::seconds(1) : std::chrono::seconds(25);
    if (o.deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*o.deadline - steady::now());
        w = std::clamp(left, std::chrono::milliseconds(1000), w);
    }
    return w;
}

/// Running job steps of a run record (children included), as (step path, job id).
void running_jobs(const core::json& steps, std::vector<std::pair<std::string, std::string>>& out) {
    for (const auto& s : steps) {
        if (core::string_at(s, "state") == "running" && !core::string_at(s, "job_id").empty()) out.emplace_back(core::string_at(s, "path"), core::string_at(s, "job_id"));
        if (auto c = s.find("children"); c != s.end() && c->is_array()) running_jobs(*c, out);
    }
}

/// Says on stderr why a step's job is still pending (no agent can take it), once per reason, so
/// a run that cannot progress does not wait silently.
class pending_notes {
public:
    void check(api_client& api, const std::string& run_id, progress& bar) {
        std::vector<std::pair<std::string, std::string>> jobs;
        running_jobs(api.get("/api/v1/runs/" + url_encode(run_id)).value("steps", core::json::array()), jobs);
        if (jobs.size() > 5) jobs.resize(5);  // enough to show why; each is one request
        for (const auto& [step, id] : jobs) {
            auto job = api.get("/api/v1/jobs/" + url_encode(id));
            auto reason = core::string_at(job, "pending_reason");
            if (core::string_at(job, "state") != "pending" || reason.empty() || told_[id] == reason) continue;
            told_[id] = reason;
            bar.clear();
            std::cerr << "orbitmesh: step " << step << ": job " << id << " is still pending: " << reason << std::endl;
        }
    }

private:
    std::map<std::string, std::string> told_;
};

/// Reads every event to the end; false when the client deadline passed first.
bool read_events(api_client& api, const std::string& run_id, const follow_options& o, progress& bar, bool live) {
    std::int64_t after = 0;
    const auto started = steady::now();
    auto next_check = started + std::chrono::seconds(3);
    pending_notes notes;
    for (;;) {
        if (o.deadline && steady::now() >= *o.deadline) return false;
        auto wait = next_wait(o, live);
        if (!o.quiet) {  // wake for the next pending check too
            auto to_check = std::chrono::duration_cast<std::chrono::milliseconds>(next_check - steady::now());
            wait = std::min(wait, std::max(std::chrono::milliseconds(1000), to_check));
        }
        auto page = api.get(poll_target(run_id, after, wait), wait + std::chrono::seconds(30));
        for (const auto& ev : page.value("events", core::json::array())) {
            if (o.format == "ndjson") print_json(ev, true);
            bar.on_event(ev);
            if (o.format == "table" && core::string_at(ev, "type") == "step.log" && (live || o.verbose)) print_log_line(ev, bar);
        }
        after = page.value("next", after);
        if (page.value("done", false)) return true;
        if (!o.quiet && steady::now() >= next_check) {
            notes.check(api, run_id, bar);
            next_check = steady::now() + std::chrono::seconds(10);
        }
        bar.draw();
    }
}

void report_end(const core::json& run, const follow_options& o) {
    std::string state = core::string_at(run, "state");
    if (o.format == "json") print_json(run);
    else if (o.format == "table" && !o.quiet) print_run_tree(run);
    if (state == "succeeded" || o.quiet) return;
    std::string why = core::string_at(run, "error");
    std::cerr << "orbitmesh: run " << core::string_at(run, "id") << " " << state << (why.empty() ? "" : ": " + why) << std::endl;
}

std::string agent_name(const core::json& agent) {
    if (agent.is_object()) return agent.value("name", agent.value("id", std::string("-")));
    if (agent.is_string() && !agent.get<std::string>().empty()) return agent.get<std::string>();
    return "-";
}

std::string shorten(std::string s, std::size_t n) {
    std::replace(s.begin(), s.end(), '\n', ' ');
    return s.size() > n ? s.substr(0, n - 3) + "..." : s;
}

void tree_rows(const core::json& steps, const std::string& indent, std::vector<std::vector<std::string>>& rows) {
    for (const auto& s : steps) {
        std::string dur = s.value("duration_ms", core::json()).is_number()
                              ? core::format_duration(s["duration_ms"].get<std::int64_t>()) : "-";
        std::string err = core::string_at(s, "error");
        std::string path = core::string_at(s, "path"), name = core::string_at(s, "id");
        if (!indent.empty() && path.rfind('[') != std::string::npos) name = path.substr(path.rfind('['));  // `[2]/upload`
        rows.push_back({indent + name, core::string_at(s, "state"), cell(s, "attempts"), agent_name(s.value("agent", core::json())),
                        dur, err.empty() ? "-" : shorten(err, 60)});
        if (auto c = s.find("children"); c != s.end() && c->is_array()) tree_rows(*c, indent + "  ", rows);
    }
}

/// Under the table: each step waiting for approval, with its message and the command that answers it.
void print_approvals(const core::json& steps, const std::string& run_id) {
    for (const auto& s : steps) {
        const auto w = s.value("waiting", core::json::object());
        if (core::string_at(s, "state") == "waiting" && w.is_object() && core::string_at(w, "kind") == "approval")
            std::cout << "approval " << core::string_at(s, "path") << ": " << (core::string_at(s, "message").empty() ? "(no message)" : core::string_at(s, "message"))
                      << "  (orbitmesh workflow approve " << run_id << " --step " << core::string_at(s, "path") << ")\n";
        if (auto c = s.find("children"); c != s.end() && c->is_array()) print_approvals(*c, run_id);
    }
}

/// Seconds since the epoch of an RFC 3339 UTC time (`2026-01-02T03:04:05.678Z`); nullopt if unreadable.
std::optional<std::int64_t> epoch_ms(const std::string& t) {
    std::tm tm{};
    const char* rest = strptime(t.c_str(), "%Y-%m-%dT%H:%M:%S", &tm);
    if (rest == nullptr) return std::nullopt;
    std::int64_t ms = static_cast<std::int64_t>(timegm(&tm)) * 1000;
    if (*rest == '.') ms += static_cast<std::int64_t>(std::strtod(rest, nullptr) * 1000);
    return ms;
}

std::string run_duration(const core::json& run) {
    auto start = epoch_ms(core::string_at(run, "started_at"));
    if (!start) return "-";
    auto end = epoch_ms(core::string_at(run, "finished_at"));
    std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count();
    return core::format_duration(std::max<std::int64_t>(0, end.value_or(now) - *start));
}

std::string steps_done(const core::json& run) {
    const auto steps = run.value("steps", core::json::array());
    std::size_t done = 0;
    for (const auto& s : steps) done += step_done(core::string_at(s, "state"));
    return std::to_string(done) + "/" + std::to_string(steps.size());
}

}  // namespace

bool run_finished(const std::string& s) {
    return s == "succeeded" || s == "failed" || s == "cancelled" || s == "timed_out";
}

int exit_code_for_run_state(const std::string& state) {
    if (state == "succeeded") return core::exit_ok;
    if (state == "timed_out") return core::exit_timeout;
    if (state == "cancelled") return core::exit_cancelled;
    return core::exit_failed;
}

int follow_run(api_client& api, const std::string& run_id, const follow_options& o) {
    const std::string target = "/api/v1/runs/" + url_encode(run_id);
    bool live = o.format == "table" && !o.quiet && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
    progress bar(std::max(o.total_steps, api.get(target).value("steps", core::json::array()).size()), live);
    bool ended = read_events(api, run_id, o, bar, live);
    bar.clear();
    if (!ended) {
        throw core::error(core::error_kind::timeout, "run " + run_id + " did not end within --timeout; it may still be "
                                                     "running on the hub (see orbitmesh status " + run_id + ")");
    }
    core::json run = api.get(target + "?wait=10s", std::chrono::seconds(40));
    report_end(run, o);
    return exit_code_for_run_state(core::string_at(run, "state"));
}

void print_run_tree(const core::json& run) {
    const auto& wf = run.value("workflow", core::json::object());
    std::cout << "run " << core::string_at(run, "id") << "  " << (wf.is_object() ? core::string_at(wf, "id") : std::string{})
              << (wf.is_object() && !core::string_at(wf, "version").empty() ? " v" + core::string_at(wf, "version") : std::string{}) << "  "
              << core::string_at(run, "state") << "  " << run_duration(run) << "\n";
    std::vector<std::vector<std::string>> rows;
    tree_rows(run.value("steps", core::json::array()), "", rows);
    for (const auto& c : run.value("compensations", core::json::array()))
        rows.push_back({"undo " + core::string_at(c, "step"), core::string_at(c, "state"), "-", "-", "-", core::string_at(c, "error").empty() ? "-" : shorten(core::string_at(c, "error"), 60)});
    print_table({"STEP", "STATE", "ATTEMPTS", "AGENT", "DURATION", "ERROR"}, rows);
    print_approvals(run.value("steps", core::json::array()), core::string_at(run, "id"));
}

void print_run_list(const core::json& runs, const std::string& format) {
    if (format == "json") return print_json({{"runs", runs}});
    if (format == "ndjson") {
        for (const auto& r : runs) print_json(r, true);
        return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : runs) {
        const auto& wf = r.value("workflow", core::json::object());
        rows.push_back({core::string_at(r, "id"), wf.is_object() ? core::string_at(wf, "id") : "-", core::string_at(r, "state"), steps_done(r),
                        cell(r, "started_at"), run_duration(r)});
    }
    print_table({"ID", "WORKFLOW", "STATE", "STEPS", "STARTED", "DURATION"}, rows);
}

}  // namespace orbitmesh::cli
