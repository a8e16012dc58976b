#include "engine/replay/timeline.hpp"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include "core/agent_machine.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/msgpack_view.hpp"
#include "core/run_events.hpp"
#include "store/event_scan.hpp"

namespace orbitmesh::engine::replay {

namespace {

std::vector<core::event> stream_events(store::event_scan& log, const std::string& stream, std::int64_t until) {
    std::vector<core::event> out;
    log.stream(stream, until, [&](const core::event_view& v) { out.push_back(core::to_event(v)); });
    return out;
}

// Days since 1970-01-01 of a civil date (H. Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

/// `YYYY-MM-DDTHH:MM:SS[.mmm][Z]` (UTC) in ms, or -1.
std::int64_t parse_utc(std::string_view s) {
    if (!s.empty() && s.back() == 'Z') s.remove_suffix(1);
    if (s.size() != 19 && s.size() != 23) return -1;
    auto num = [&](std::size_t at, std::size_t len, int& out) {
        auto r = std::from_chars(s.data() + at, s.data() + at + len, out);
        return r.ec == std::errc() && r.ptr == s.data() + at + len;
    };
    int y, mo, d, h, mi, se, ms = 0;
    if (s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':') return -1;
    if (!num(0, 4, y) || !num(5, 2, mo) || !num(8, 2, d) || !num(11, 2, h) || !num(14, 2, mi) || !num(17, 2, se)) return -1;
    if (s.size() == 23 && (s[19] != '.' || !num(20, 3, ms))) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return -1;
    const auto days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
    return ((days * 24 + h) * 60 + mi) * 60'000 + se * 1000 + ms;
}

std::string short_text(const core::json& v, std::size_t max = 60) {
    auto s = v.is_string() ? v.get<std::string>() : v.dump(-1, ' ', false, core::json::error_handler_t::replace);
    for (auto& c : s)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    return s.size() > max ? s.substr(0, max - 3) + "..." : s;
}

std::string num(const core::json& d, const char* k) {
    return d.is_object() && d.contains(k) && !d[k].is_null() ? d[k].dump() : std::string("-");
}

}  // namespace

std::int64_t resolve_until(store::event_scan& log, std::string_view until) {
    if (until.empty()) return 0;
    std::int64_t seq = 0;
    auto r = std::from_chars(until.data(), until.data() + until.size(), seq);
    if (r.ec == std::errc() && r.ptr == until.data() + until.size()) {
        if (seq < 1) throw core::error(core::error_kind::usage, "--until " + std::string(until) + ": a seq starts at 1");
        return seq;
    }
    const auto ms = parse_utc(until);
    if (ms < 0)
        throw core::error(core::error_kind::usage, "--until " + std::string(until) +
                                                       ": give an event seq (e.g. 1200) or a UTC time such as 2026-12-03T14:35:09Z");
    const auto at = log.last_seq_before_time(ms);
    if (at == 0) throw core::error(core::error_kind::not_found, "--until " + std::string(until) + ": the log has no event that early");
    return at;
}

std::string describe(const core::event& e) {
    const auto& d = e.data;
    const auto& t = e.type;
    const auto attempt = "attempt " + num(d, "attempt");
    if (t == core::job_event::submitted) {
        const auto spec = d.is_object() ? d.value("spec", core::json::object()) : core::json::object();
        return core::string_at(spec, "command") + " " + short_text(spec.value("payload", core::json()));
    }
    if (t == core::job_event::assigned) return attempt + " -> agent " + core::string_at(d, "agent_name") + " (" + core::string_at(d, "agent_id") + ")";
    if (t == core::job_event::started) return attempt + " running (the agent ACKed)";
    if (t == core::job_event::finished || t == core::job_event::dead || t == core::job_event::retry_scheduled) {
        std::string out = attempt + " " + (t == core::job_event::finished ? core::string_at(d, "state") : t == core::job_event::dead ? "dead" : "failed, retry scheduled");
        out += ", exit " + num(d, "exit_code");
        if (!core::string_at(d, "error").empty()) out += ": " + short_text(core::string_at(d, "error"));
        else if (d.is_object() && d.contains("output") && !d["output"].is_null()) out += ", output " + short_text(d["output"], 40);
        return out;
    }
    if (t == core::job_event::requeued) return attempt + " back to the queue: " + core::string_at(d, "reason");
    if (t == core::job_event::cancel_requested) return core::string_at(d, "reason");
    if (t == core::job_event::retried) return "queued again (job retry)";
    if (t == core::agent_event::connected) return core::string_at(d, "name") + " connected, concurrency " + num(d, "concurrency");
    if (t == core::agent_event::disconnected) return core::string_at(d, "name") + " disconnected" + (core::string_at(d, "reason").empty() ? "" : ": " + core::string_at(d, "reason"));
    if (t == core::run_event::started) {
        const auto wf = d.is_object() ? d.value("workflow", core::json::object()) : core::json::object();
        return "workflow " + core::string_at(wf, "id") + " version " + core::string_at(wf, "version") + ", inputs " + short_text(d.value("inputs", core::json::object()), 40);
    }
    if (t == core::run_event::step_started) return core::string_at(d, "path") + " " + attempt + (d.contains("job_ids") ? " jobs " + short_text(d["job_ids"], 40) : "");
    if (t == core::run_event::step_finished) return core::string_at(d, "path") + " " + core::string_at(d, "state") + (core::string_at(d, "error").empty() ? "" : ": " + short_text(core::string_at(d, "error")));
    if (t == core::run_event::step_waiting) return core::string_at(d, "path") + " waits (" + core::string_at(d, "kind") + ")";
    if (t == core::run_event::step_skipped) return core::string_at(d, "path") + " skipped: " + core::string_at(d, "reason");
    if (t == core::run_event::compensating) return core::string_at(d, "path") + " compensating, job " + core::string_at(d, "job_id");
    if (t == core::run_event::compensated) return core::string_at(d, "path") + " compensation " + core::string_at(d, "state");
    if (t == core::run_event::ending || t == core::run_event::finished)
        return core::string_at(d, "state") + (core::string_at(d, "error").empty() ? "" : ": " + short_text(core::string_at(d, "error")));
    if (t == core::run_event::approval) return core::string_at(d, "path") + (d.value("reject", false) ? " rejected by " : " approved by ") + core::string_at(d, "approver");
    if (t == "workflow.registered") return "version " + core::string_at(d, "version") + " from " + core::string_at(d, "file");
    return d.is_null() || d.empty() ? "" : short_text(d);
}

namespace {

core::json fold_job(const std::vector<core::event>& events) {
    core::job_record r;
    for (const auto& e : events) {
        try {
            core::apply(r, e);
        } catch (const core::error&) {
            // the hub skips an event its state machine refuses; so does the replay
        }
    }
    return core::to_json(r);
}

void load_run(store::event_scan& log, timeline& t) {
    t.events = stream_events(log, "run-" + t.id, t.until);
    core::run_record run;
    std::vector<std::string> job_ids;
    for (const auto& e : t.events) {
        try {
            core::apply(run, e);
        } catch (const core::error&) {
        }
        for (const auto& id : e.data.is_object() ? e.data.value("job_ids", std::vector<std::string>{}) : std::vector<std::string>{})
            job_ids.push_back(id);
        if (e.type == core::run_event::compensating && !core::string_at(e.data, "job_id").empty()) job_ids.push_back(core::string_at(e.data, "job_id"));
    }
    t.state = core::to_json(run);
    std::set<std::string> seen;
    for (const auto& id : job_ids) {
        if (!seen.insert(id).second) continue;
        auto events = stream_events(log, core::job_stream(id), t.until);
        t.jobs.push_back(fold_job(events));
        t.events.insert(t.events.end(), std::make_move_iterator(events.begin()), std::make_move_iterator(events.end()));
    }
    std::sort(t.events.begin(), t.events.end(), [](const core::event& a, const core::event& b) { return a.seq < b.seq; });
}

/// An agent's own events and every attempt it was given: one pass over the log, reading only
/// the agent of each job.assigned in place.
void load_agent(store::event_scan& log, timeline& t) {
    t.events = stream_events(log, "agent-" + t.id, t.until);
    core::agent_history a;
    a.id = t.id;
    for (const auto& e : t.events) {
        try {
            core::apply(a, e);
        } catch (const core::error&) {
        }
    }
    std::map<std::string, std::int64_t, std::less<>> attempts;  // job -> attempt given to this agent
    std::map<std::string, std::vector<core::event>, std::less<>> by_job;
    log.range(0, t.until > 0 ? t.until : INT64_MAX, [&](const core::event_view& v) {
        if (v.stream.compare(0, 4, "job-") != 0 || v.data.empty()) return;
        const auto id = v.stream.substr(4);
        std::int64_t attempt = -1;
        try {
            const core::mp_value d(v.data);
            const auto given = d.find("attempt");
            if (given && given->type() == core::mp_value::kind::integer) attempt = given->as_int();
            if (v.type == core::job_event::assigned) {
                const auto agent = d.find("agent_id");
                if (agent && agent->is_string() && agent->as_string() == t.id) attempts[std::string(id)] = attempt;
                else if (auto old = attempts.find(id); old != attempts.end()) attempts.erase(old);
            }
        } catch (const core::error&) {
            return;  // unreadable data: the fold reports it, the timeline skips it
        }
        auto it = attempts.find(id);
        if (it == attempts.end() || attempt != it->second) return;
        auto e = core::to_event(v);
        by_job[std::string(id)].push_back(e);
        t.events.push_back(std::move(e));
    });
    std::sort(t.events.begin(), t.events.end(), [](const core::event& x, const core::event& y) { return x.seq < y.seq; });
    auto rec = core::to_json(core::to_record(a));
    rec["jobs_given"] = by_job.size();
    t.state = std::move(rec);
    for (const auto& [id, events] : by_job) t.jobs.push_back(fold_job(stream_events(log, core::job_stream(id), t.until)));
}

/// The agent whose name is `name` (its latest event says so), or "".
std::string agent_named(store::event_scan& log, const std::string& name) {
    std::string found;
    log.streams_with_prefix("agent-", [&](const core::event_view& v) {
        if (v.data.empty()) return;
        try {
            const auto n = core::mp_value(v.data).find("name");
            if (n && n->is_string() && n->as_string() == name) found = std::string(v.stream.substr(6));
        } catch (const core::error&) {
            // unreadable data: not this agent
        }
    });
    return found;
}

bool has_stream(store::event_scan& log, const std::string& stream, std::int64_t until) {
    bool any = false;
    log.stream(stream, until > 0 ? until : INT64_MAX, [&](const core::event_view&) { any = true; });
    return any;
}

}  // namespace

timeline load_timeline(const std::filesystem::path& file, const std::string& id, std::int64_t until) {
    store::event_scan log(file);
    timeline t;
    t.until = until > 0 ? until : log.bounds().last_seq;
    std::string key = id;
    for (const char* prefix : {"job-", "run-", "agent-"})
        if (key.rfind(prefix, 0) == 0) key = key.substr(std::string_view(prefix).size());
    t.id = key;
    if (has_stream(log, core::job_stream(key), t.until)) {
        t.kind = "job";
        t.events = stream_events(log, core::job_stream(key), t.until);
        t.state = fold_job(t.events);
        return t;
    }
    if (has_stream(log, core::run_stream(key), t.until)) {
        t.kind = "run";
        load_run(log, t);
        return t;
    }
    if (key.rfind("workflow-", 0) == 0) key = key.substr(9);
    if (has_stream(log, "workflow-" + key, t.until)) {
        t.kind = "workflow";
        t.events = stream_events(log, "workflow-" + key, t.until);
        core::json versions = core::json::array();
        for (const auto& e : t.events) versions.push_back(core::string_at(e.data, "version"));
        t.state = {{"id", key}, {"versions", std::move(versions)}};
        return t;
    }
    if (!has_stream(log, "agent-" + key, t.until)) t.id = agent_named(log, key);
    if (!t.id.empty() && has_stream(log, "agent-" + t.id, t.until)) {
        t.kind = "agent";
        load_agent(log, t);
        return t;
    }
    throw core::error(core::error_kind::not_found, "no job, run, agent or workflow \"" + id + "\" in " + file.string() +
                                                       (until > 0 ? " up to seq " + std::to_string(until) : "") +
                                                       " (`orbitmesh replay --data-dir DIR` lists what the log holds)");
}

core::json to_json(const timeline& t) {
    core::json events = core::json::array();
    for (const auto& e : t.events)
        events.push_back({{"seq", e.seq}, {"time", core::format_time(e.time_ms)}, {"stream", e.stream}, {"version", e.version},
                          {"type", e.type}, {"data", e.data}, {"summary", describe(e)}});
    core::json out{{"kind", t.kind}, {"id", t.id}, {"until", t.until}, {"events", std::move(events)}, {"state", t.state}};
    if (t.kind == "run" || t.kind == "agent") out["jobs"] = t.jobs;
    return out;
}

}  // namespace orbitmesh::engine::replay
