#include "core/run_events.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"

namespace orbitmesh::core {

namespace {

[[noreturn]] void illegal(const run_record& r, const event& e, const std::string& why) {
    throw error(error_kind::conflict, "run " + r.id + ": event " + e.type + " is not allowed in state " +
                                          std::string(to_string(r.state)) + " (" + why + ")");
}

std::string str(const json& d, const char* key) { return d.value(key, std::string{}); }

void apply_started(run_record& r, const event& e) {
    if (r.version != 0) illegal(r, e, "run already exists");
    const auto& d = e.data;
    r.id = str(d, "id");
    const auto& wf = d.value("workflow", json::object());
    r.workflow_id = str(wf, "id");
    r.workflow_name = str(wf, "name");
    r.workflow_version = str(wf, "version");
    r.file = str(d, "file");
    r.source = str(d, "source");
    r.inputs = d.value("inputs", json::object());
    r.vars = d.value("vars", json::object());
    r.timeout_ms = d.value("timeout_ms", std::int64_t{0});
    r.idempotency_key = str(d, "idempotency_key");
    // Top-level step ids in file order, so a replay lists steps as the hub does (absent in logs
    // written before it was recorded: the runner then takes the order from the definition).
    if (auto it = d.find("step_order"); it != d.end() && it->is_array())
        for (const auto& id : *it)
            if (id.is_string()) r.step_order.push_back(id.get<std::string>());
    // Each top-level step's dependencies, so a client can draw the run's DAG from the record alone.
    if (auto it = d.find("step_needs"); it != d.end() && it->is_object())
        for (const auto& [id, needs] : it->items())
            if (needs.is_array())
                for (const auto& n : needs)
                    if (n.is_string()) r.step_needs[id].push_back(n.get<std::string>());
    const auto& parent = d.value("parent", json::object());
    r.parent_run = str(parent, "run");
    r.parent_step = str(parent, "step");
    r.created_ms = e.time_ms;
    r.state = d.value("pending", false) ? run_state::pending : run_state::running;
    if (r.state == run_state::running) r.started_ms = e.time_ms;
    // `rerun --from`: upstream steps keep their recorded outputs and count as done.
    const json reused = d.value("reused", json::object());
    for (const auto& [path, out] : reused.items()) {
        auto& s = r.steps[path];
        s.path = path;
        s.id = path;
        s.type = out.value("type", std::string("job"));
        s.state = step_state::succeeded;
        s.output = out.value("output", json());
        s.detail["reused"] = true;
    }
}

step_record& step_for(run_record& r, const event& e) {
    auto path = str(e.data, "path");
    if (path.empty()) illegal(r, e, "no step path");
    auto& s = r.steps[path];
    if (s.path.empty()) {
        s.path = path;
        s.id = str(e.data, "id").empty() ? path.substr(path.rfind('/') + 1) : str(e.data, "id");
        s.type = str(e.data, "type");
    }
    return s;
}

void apply_step_started(run_record& r, const event& e) {
    auto& s = step_for(r, e);
    if (is_terminal(s.state)) illegal(r, e, "step " + s.path + " already ended");
    s.state = step_state::running;
    s.attempts = e.data.value("attempt", s.attempts + 1);
    s.job_ids = e.data.value("job_ids", std::vector<std::string>{});
    if (e.data.contains("detail")) s.detail.update(e.data["detail"]);
    if (s.started_ms == 0) s.started_ms = e.time_ms;
    s.attempt_started_ms = e.time_ms;
    s.wait = {};
    s.error.clear();
}

void apply_step_finished(run_record& r, const event& e) {
    auto& s = step_for(r, e);
    if (is_terminal(s.state)) illegal(r, e, "step " + s.path + " already ended");
    auto to = parse_step_state(str(e.data, "state"));
    if (!to || !is_terminal(*to)) illegal(r, e, "bad final step state");
    s.state = *to;
    s.output = e.data.value("output", json());
    s.error = str(e.data, "error");
    s.agent = str(e.data, "agent");
    s.finished_ms = e.time_ms;
    s.wait = {};
    if (s.state == step_state::succeeded) s.completed_order = ++r.completed;
    if (auto var = str(e.data, "variable"); !var.empty()) r.vars[var] = s.output;
}

void apply_waiting(run_record& r, const event& e) {
    auto& s = step_for(r, e);
    if (is_terminal(s.state)) illegal(r, e, "step " + s.path + " already ended");
    s.state = step_state::waiting;
    s.wait.kind = str(e.data, "kind");
    s.wait.until_ms = e.data.value("until", std::int64_t{0});
    s.wait.event_type = str(e.data, "event_type");
    s.wait.correlation_key = str(e.data, "correlation_key");
    s.wait.message = str(e.data, "message");
    if (s.started_ms == 0) s.started_ms = e.time_ms;
    if (s.wait.kind == "retry") s.error = str(e.data, "error");
}

void apply_compensation(run_record& r, const event& e, bool done) {
    auto path = str(e.data, "path");
    auto* s = r.find(path);
    if (!s || s->state == step_state::compensated) illegal(r, e, "step " + path + " cannot be compensated");
    compensation_record* c = nullptr;
    for (auto& x : r.compensations)
        if (x.step == path) c = &x;
    if (!c) {
        r.compensations.emplace_back();
        c = &r.compensations.back();
        c->step = path;
    }
    if (!done) {
        s->state = step_state::compensating;
        c->state = "running";
        c->job_id = str(e.data, "job_id");
        c->attempts = e.data.value("attempt", c->attempts + 1);
        return;
    }
    c->state = str(e.data, "state");
    c->error = str(e.data, "error");
    s->state = c->state == "succeeded" ? step_state::compensated : step_state::failed;
    if (c->state != "succeeded") s->error = "compensation " + c->state + ": " + c->error;
}

void apply_run_change(run_record& r, const event& e) {
    const auto& t = e.type;
    if (t == run_event::admitted) {
        if (r.state != run_state::pending) illegal(r, e, "only pending runs are admitted");
        r.state = run_state::running;
        r.started_ms = e.time_ms;
    } else if (t == run_event::paused || t == run_event::resumed) {
        r.paused = t == run_event::paused;
    } else if (t == run_event::ending) {
        auto to = parse_run_state(str(e.data, "state"));
        if (!to || !is_terminal(*to)) illegal(r, e, "bad ending state");
        if (!r.ending) r.ending = *to;
        if (r.error.empty()) r.error = str(e.data, "error");
    } else {  // finished
        auto to = parse_run_state(str(e.data, "state"));
        if (!to || !is_terminal(*to)) illegal(r, e, "bad final state");
        r.state = *to;
        if (auto err = str(e.data, "error"); !err.empty()) r.error = err;
        r.finished_ms = e.time_ms;
    }
}

}  // namespace

std::string run_stream(std::string_view run_id) { return "run-" + std::string(run_id); }

void apply(run_record& r, const event& e) {
    const auto& t = e.type;
    if (t == run_event::started) {
        apply_started(r, e);
    } else if (r.version == 0) {
        illegal(r, e, "run not started");
    } else if (is_terminal(r.state)) {
        illegal(r, e, "run already ended");
    } else if (t == run_event::step_started) {
        apply_step_started(r, e);
    } else if (t == run_event::step_finished) {
        apply_step_finished(r, e);
    } else if (t == run_event::step_skipped) {
        auto& s = step_for(r, e);
        if (s.state != step_state::pending) illegal(r, e, "only pending steps are skipped");
        s.state = step_state::skipped;
        s.error = str(e.data, "reason");
    } else if (t == run_event::step_waiting) {
        apply_waiting(r, e);
    } else if (t == run_event::compensating || t == run_event::compensated) {
        apply_compensation(r, e, t == run_event::compensated);
    } else if (t == run_event::approval) {
        auto& s = step_for(r, e);
        if (s.state != step_state::waiting) illegal(r, e, "step " + s.path + " is not waiting for approval");
        s.approvals.push_back({str(e.data, "approver"), e.data.value("reject", false), str(e.data, "comment"), e.time_ms});
    } else if (t == run_event::admitted || t == run_event::paused || t == run_event::resumed ||
               t == run_event::ending || t == run_event::finished) {
        apply_run_change(r, e);
    } else {
        throw error(error_kind::conflict, "run " + r.id + ": unknown event type " + t);
    }
    r.version = e.version;
}

event make_run_event(const run_record& r, std::string_view type, json data) {
    return make_event(run_stream(r.id), r.version, type, std::move(data));
}

}  // namespace orbitmesh::core
