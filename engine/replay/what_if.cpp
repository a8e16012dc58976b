#include "engine/replay/what_if.hpp"

#include <map>
#include <set>

#include "core/error.hpp"
#include "core/job_events.hpp"
#include "core/msgpack_view.hpp"
#include "core/run.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/case_runner.hpp"
#include "store/event_scan.hpp"

namespace orbitmesh::engine::replay {

namespace {

std::string text(const core::json& v) {
    auto t = v.dump(-1, ' ', false, core::json::error_handler_t::replace);
    return t.size() <= 200 ? t : t.substr(0, 197) + "...";
}

core::run_record load_run(store::event_scan& log, const std::string& id) {
    core::run_record r;
    bool any = false;
    log.stream("run-" + id, INT64_MAX, [&](const core::event_view& v) {
        any = true;
        try {
            core::apply(r, core::to_event(v));
        } catch (const core::error&) {
            // an event the hub refused too (replay --verify names it)
        }
    });
    if (!any)
        throw core::error(core::error_kind::not_found, "run " + id + " is not in the log of " + log.file().string() +
                                                           " (list runs with `orbitmesh replay --data-dir DIR`)");
    return r;
}

// The payload a recorded job was submitted with (its first event).
core::json recorded_payload(store::event_scan& log, const std::string& job_id) {
    core::json payload;
    bool first = true;
    log.stream(core::job_stream(job_id), INT64_MAX, [&](const core::event_view& v) {
        if (!first) return;
        first = false;
        const auto e = core::to_event(v);
        if (e.data.contains("spec")) payload = e.data["spec"].value("payload", core::json());
    });
    return payload;
}

core::job_state job_state_of(core::step_state s) {
    switch (s) {
        case core::step_state::succeeded:
        case core::step_state::compensated:
        case core::step_state::compensating: return core::job_state::succeeded;
        case core::step_state::timed_out: return core::job_state::timed_out;
        case core::step_state::cancelled: return core::job_state::cancelled;
        default: return core::job_state::failed;
    }
}

// Each recorded job step answers as it did: its failed attempts, then its final result.
mock_setup setup_from(const core::run_record& old) {
    mock_setup m;
    m.inputs = old.inputs;
    m.unmocked_succeed = true;
    for (const auto& [path, s] : old.steps) {
        if (s.type == "job" && s.attempts > 0 && core::is_terminal(s.state)) {
            step_mock mock;
            for (int i = 1; i < s.attempts; ++i) mock.answers.push_back({core::job_state::failed, 1, nullptr, "attempt failed (recorded)", 0});
            mock.answers.push_back({job_state_of(s.state), std::nullopt, s.output, s.error, 0});
            m.jobs[path] = std::move(mock);
        }
        if (!s.approvals.empty()) {
            bool reject = false;
            for (const auto& a : s.approvals) reject = reject || a.reject;
            m.approvals[path] = !reject;
        }
    }
    for (const auto& c : old.compensations) {
        mock_answer a;
        a.state = c.state == "succeeded" ? core::job_state::succeeded : core::job_state::failed;
        a.error = c.error;
        m.compensations[c.step].answers.push_back(a);
    }
    return m;
}

void flatten(const core::json& steps, std::vector<std::string>& order, std::map<std::string, core::json>& out) {
    if (!steps.is_array()) return;
    for (const auto& s : steps) {
        const auto path = s.value("path", std::string{});
        if (!out.count(path)) order.push_back(path);
        out[path] = s;
        for (const char* nested : {"steps", "children", "iterations"})
            if (s.contains(nested)) flatten(s[nested], order, out);
    }
}

bool ran(const core::json* s) {
    if (s == nullptr) return false;
    const auto st = s->value("state", std::string{});
    return st != "skipped" && st != "pending" && !st.empty();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    if (from.empty()) return s;
    for (auto pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size())) s.replace(pos, from.size(), to);
    return s;
}

}  // namespace

what_if_report what_if(const std::filesystem::path& store_file, const std::string& run_id, const std::string& source,
                       const std::string& file) {
    store::event_scan log(store_file);
    const auto old = load_run(log, run_id);
    if (!core::is_terminal(old.state))
        throw core::error(core::error_kind::invalid_input, "run " + run_id + " has not ended (" + std::string(core::to_string(old.state)) +
                                                               "): --what-if compares with a finished run");
    const auto result = run_mocked(source, file, setup_from(old));
    what_if_report rep;
    rep.run_id = run_id;
    rep.workflow_file = file;
    rep.old_outcome = std::string(core::to_string(old.state));
    rep.new_outcome = result.run.value("state", std::string{"not ended"});
    if (!result.ended) rep.new_outcome = "not ended (" + rep.new_outcome + ")";

    std::vector<std::string> old_order, new_order;
    std::map<std::string, core::json> before, after;
    flatten(core::to_json(old).value("steps", core::json::array()), old_order, before);
    flatten(result.run.value("steps", core::json::array()), new_order, after);
    std::map<std::string, const mock_call*> call_of;  // the last job each step dispatched
    for (const auto& c : result.calls) {
        if (c.compensation) continue;
        call_of[c.path] = &c;
        (c.mocked ? rep.answered : rep.unrecorded) += 1;
    }
    const auto new_id = result.run.value("id", std::string{});
    for (const auto& path : new_order) {
        const core::json* b = before.count(path) ? &before[path] : nullptr;
        const core::json& a = after[path];
        const auto call = call_of.find(path);
        if (ran(&a) && !ran(b)) {
            const bool unrecorded = call != call_of.end() && !call->second->mocked;
            rep.changes.push_back({path, b ? "now runs" : "added", b ? b->value("state", std::string{}) : "not in the recorded run",
                                   unrecorded ? "would run, no recorded result" : a.value("state", std::string{})});
            continue;
        }
        if (!ran(&a) && ran(b)) {
            rep.changes.push_back({path, "skipped", b->value("state", std::string{}), a.value("state", std::string{})});
            continue;
        }
        if (!ran(&a)) continue;
        if (call != call_of.end()) {
            core::json recorded;
            const auto& jobs = old.find(path) ? old.find(path)->job_ids : std::vector<std::string>{};
            if (!jobs.empty()) recorded = recorded_payload(log, jobs.front());
            // The new run has its own id; where the old one's was rendered, read it as the same.
            const auto now = replace_all(text(call->second->payload), new_id, run_id);
            if (!jobs.empty() && now != text(recorded)) rep.changes.push_back({path, "changed inputs", text(recorded), now});
        }
        const auto was = b->value("state", std::string{}), is = a.value("state", std::string{});
        if (was != is) rep.changes.push_back({path, "different outcome", was, is});
    }
    for (const auto& path : old_order)
        if (!after.count(path) && ran(&before[path]))
            rep.changes.push_back({path, "not reached", before[path].value("state", std::string{}), "not in the new run"});
    return rep;
}

core::json to_json(const what_if_report& r) {
    core::json changes = core::json::array();
    for (const auto& c : r.changes) changes.push_back({{"step", c.step}, {"change", c.change}, {"before", c.before}, {"after", c.after}});
    return {{"run", r.run_id},
            {"workflow_file", r.workflow_file},
            {"outcome", {{"before", r.old_outcome}, {"after", r.new_outcome}}},
            {"same_outcome", r.same_outcome()},
            {"changes", std::move(changes)},
            {"jobs_answered_from_record", r.answered},
            {"jobs_without_record", r.unrecorded},
            {"executed", 0}};
}

}  // namespace orbitmesh::engine::replay
