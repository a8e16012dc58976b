#include "engine/workflow/case_runner.hpp"

#include <memory>

#include "core/error.hpp"
#include "core/run.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

namespace {

constexpr std::int64_t horizon_ms = 30LL * 24 * 3600 * 1000;

std::string text(const core::json& v) { return v.dump(-1, ' ', false, core::json::error_handler_t::replace); }

struct reply_box {
    bool got = false;
    int status = 0;
    core::json body;
    api_reply fn() {
        return [this](int s, core::json b) {
            got = true;
            status = s;
            body = std::move(b);
        };
    }
};

void refused(const std::string& what, const reply_box& r) {
    if (!r.body.is_object()) throw core::error(core::error_kind::invalid_input, what + ": the engine did not answer");
    std::string message = r.body.value("message", std::string("refused"));
    if (r.body.contains("diagnostics") && r.body["diagnostics"].is_array() && !r.body["diagnostics"].empty()) {
        const auto& d = r.body["diagnostics"][0];
        message = d.value("file", std::string{}) + ":" + std::to_string(d.value("line", 0)) + ": " + d.value("message", message);
    }
    throw core::error(core::error_kind::invalid_input, what + ": " + message);
}

const core::json* search(const core::json& steps, const std::string& key) {
    if (!steps.is_array()) return nullptr;
    for (const auto& s : steps) {
        if (s.value("path", std::string{}) == key) return &s;
    }
    for (const auto& s : steps) {
        if (s.value("id", std::string{}) == key) return &s;
        for (const char* nested : {"steps", "children", "iterations"})
            if (s.contains(nested))
                if (const auto* found = search(s[nested], key)) return found;
    }
    return nullptr;
}

// Waiting approvals the case decides are given as soon as nothing else is due now.
void give_approvals(runner& rn, const std::string& run_id, const std::map<std::string, bool>& approvals,
                    std::map<std::string, bool>& given) {
    const auto* rec = rn.find_run(run_id);
    if (rec == nullptr) return;
    for (const auto& [path, s] : rec->steps) {
        if (s.state != core::step_state::waiting || s.wait.kind != "approval" || given[path]) continue;
        auto it = approvals.find(path);
        if (it == approvals.end()) it = approvals.find(s.id);
        if (it == approvals.end()) continue;
        given[path] = true;
        approval_request req{path, "workflow-test", !it->second, "given by the case file"};
        try {
            rn.approve(run_id, req, [](int, core::json) {});
        } catch (const core::error&) {
            // e.g. `approvers:` does not list workflow-test: the step waits for its timeout
        }
    }
}

}  // namespace

const core::json* find_step(const core::json& run, const std::string& key) {
    // run["steps"], not run.value(): the pointer returned points into it
    return run.is_object() && run.contains("steps") ? search(run["steps"], key) : nullptr;
}

mock_run run_mocked(const std::string& source, const std::string& file, const mock_setup& setup) {
    mock_port port(setup.jobs, setup.compensations, setup.unmocked_succeed);
    auto rn = std::make_shared<runner>(port, [&port](std::function<void()> f) { port.post(std::move(f)); });
    port.set_observer(rn);
    rn->recovered();
    reply_box reg;
    rn->register_workflow(source, file, reg.fn());
    port.drive([&] { return reg.got; }, horizon_ms);
    if (!reg.got || reg.status >= 300) refused(file, reg);
    run_request req;
    req.workflow_id = reg.body.value("id", std::string{});
    req.inputs = setup.inputs;
    reply_box started;
    try {
        rn->start_run(req, started.fn());
    } catch (const core::error& e) {
        throw core::error(core::error_kind::invalid_input, file + ": the run was refused: " + e.what());
    }
    port.drive([&] { return started.got; }, horizon_ms);
    if (!started.got || started.status >= 300) refused(file + ": the run was refused", started);
    const auto run_id = started.body.value("id", std::string{});
    std::map<std::string, bool> given;
    mock_run out;
    out.ended = port.drive(
        [&] {
            const auto* r = rn->find_run(run_id);
            return r != nullptr && core::is_terminal(r->state);
        },
        horizon_ms, [&] { give_approvals(*rn, run_id, setup.approvals, given); });
    out.run = core::json::object();
    if (const auto* r = rn->find_run(run_id)) out.run = core::to_json(*r);
    else rn->get_run(run_id, 0, [&](int, core::json body) { out.run = std::move(body); });
    if (!out.run.is_object()) out.run = core::json::object();
    out.events = core::json::array();
    try {
        rn->run_events(run_id, 0, 0, [&](int, core::json body) {
            if (body.is_object()) out.events = body.value("events", core::json::array());
        });
    } catch (const core::error&) {
        // no feed for a run that never started
    }
    out.calls = port.calls();
    out.virtual_ms = port.now();
    rn->drain_notifications();
    return out;
}

case_result run_case(const std::string& source, const std::string& file, const test_case& c) {
    case_result res;
    res.name = c.name;
    res.run = run_mocked(source, file, {c.inputs, c.steps, c.compensations, c.approvals, false});
    const auto& run = res.run.run;
    auto fail = [&](std::string m) { res.failures.push_back(std::move(m)); };
    for (const auto& call : res.run.calls)
        if (!call.mocked) fail("step \"" + call.path + "\" ran a job but the case has no mock for it (add it under steps:)");
    const auto state = run.value("state", std::string{});
    if (!res.run.ended) fail("the run did not end (state " + state + "): a step waits for something the case does not give (approvals:?)");
    const auto& e = c.expect;
    if (e.outcome && *e.outcome != state) fail("outcome: expected " + *e.outcome + ", got " + state + (run.value("error", std::string{}).empty() ? "" : " (" + run.value("error", std::string{}) + ")"));
    for (const auto& [key, want] : e.steps) {
        const auto* s = find_step(run, key);
        const auto got = s ? s->value("state", std::string{}) : std::string("never started");
        if (got != want) fail("step \"" + key + "\": expected state " + want + ", got " + got);
    }
    for (const auto& [key, want] : e.outputs) {
        const auto* s = find_step(run, key);
        const auto got = s ? s->value("output", core::json()) : core::json();
        if (got != want) fail("step \"" + key + "\": expected output " + text(want) + ", got " + text(got));
    }
    if (e.compensations) {
        std::vector<std::string> got;
        for (const auto& comp : run.value("compensations", core::json::array())) got.push_back(comp.value("step", std::string{}));
        std::vector<std::string> want;
        for (const auto& w : *e.compensations) {
            const auto* s = find_step(run, w);
            want.push_back(s ? s->value("path", w) : w);
        }
        if (got != want) fail("compensations: expected [" + [&] {
            std::string t;
            for (const auto& w : *e.compensations) t += (t.empty() ? "" : ", ") + w;
            return t;
        }() + "] in this order, got [" + [&] {
            std::string t;
            for (const auto& g : got) t += (t.empty() ? "" : ", ") + g;
            return t;
        }() + "]");
    }
    if (e.error) {
        const auto err = run.value("error", std::string{});
        if (err.find(*e.error) == std::string::npos) fail("error: expected it to contain \"" + *e.error + "\", got \"" + err + "\"");
    }
    return res;
}

}  // namespace orbitmesh::engine
