// Client operations on workflows and runs (the routes of docs/http-api.md call these on the strand).
#include <algorithm>

#include "core/error.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"
#include "engine/workflow/webhook_secret.hpp"

namespace orbitmesh::engine {

namespace {

core::error no_run(const std::string& id) {
    return core::error(core::error_kind::not_found, "run " + id + " not found (list runs with GET /api/v1/runs)");
}

}  // namespace

void runner::register_workflow(const std::string& source, const std::string& file, api_reply reply) {
    core::json diagnostics;
    workflow_registry::registration reg;
    try {
        reg = registry_.check(source, file, diagnostics);
    } catch (const core::error& e) {
        if (diagnostics.empty()) throw;
        return reply(400, {{"error", "invalid_input"}, {"message", e.what()}, {"diagnostics", diagnostics}});
    }
    if (!reg.event) return reply(200, workflow_registry::summary(reg.entry, false));
    store::write_batch batch;
    batch.events.push_back(*reg.event);
    registry_.apply(*reg.event);
    auto body = workflow_registry::summary(*registry_.find(reg.entry.id), false);
    std::weak_ptr<runner> weak = weak_from_this();
    port_.commit(std::move(batch), [weak, reply, body, id = reg.entry.id] {
        if (auto self = weak.lock(); self && self->hooks_.registered) self->hooks_.registered(id);
        reply(201, body);
    });
}

core::json runner::list_workflows() const {
    core::json out = core::json::array();
    for (const auto* w : registry_.latest()) out.push_back(workflow_registry::summary(*w, false));
    return {{"workflows", std::move(out)}};
}

core::json runner::get_workflow(const std::string& id) const {
    const auto* w = registry_.find(id);
    if (!w)
        throw core::error(core::error_kind::not_found, "workflow " + id + " is not registered (see GET /api/v1/workflows)");
    auto body = workflow_registry::summary(*w, true);
    // Webhook secrets are never returned (SPEC §8): one written in the file is masked.
    if (body.contains("source") && body["source"].is_string())
        body["source"] = mask_webhook_secrets(*w->definition, body["source"].get<std::string>());
    return body;
}

void runner::cancel_run(const std::string& id, const std::string& reason, api_reply reply) {
    auto* r = find_or_load(id);
    if (!r) throw no_run(id);
    cancel_run_now(*r, core::run_state::cancelled, reason.empty() ? "cancelled by request" : "cancelled: " + reason);
    reply(200, core::to_json(r->rec));
}

void runner::pause_run(const std::string& id, bool pause, api_reply reply) {
    auto* r = find_or_load(id);
    if (!r) throw no_run(id);
    if (core::is_terminal(r->rec.state))
        throw core::error(core::error_kind::conflict, "run " + id + " already ended (" +
                                                          std::string(core::to_string(r->rec.state)) + "); it cannot be paused or resumed");
    if (r->rec.paused != pause) {
        store::write_batch batch;
        record(*r, pause ? core::run_event::paused : core::run_event::resumed, core::json::object(), batch);
        flush(*r, std::move(batch));
        advance(*r);
    }
    reply(200, core::to_json(r->rec));
}

void runner::approve(const std::string& id, const approval_request& req, api_reply reply) {
    auto* r = find_or_load(id);
    if (!r) throw no_run(id);
    const auto& step = req.step;
    const core::step_record* rec = r->rec.find(step);
    for (const auto& [path, s] : r->rec.steps)
        if (!rec && s.id == step && s.wait.kind == "approval") rec = &s;
    if (!rec || rec->state != core::step_state::waiting || rec->wait.kind != "approval")
        throw core::error(core::error_kind::conflict, "step " + step + " of run " + id +
                                                          " is not waiting for approval (check the step id in the run record)");
    const auto& a = std::get<core::approval_step>(def_of(*r, rec->path)->config);
    const auto& who = req.approver;
    if (!a.approvers.empty() && std::find(a.approvers.begin(), a.approvers.end(), who) == a.approvers.end())
        throw core::error(core::error_kind::invalid_input,
                          "approver \"" + who + "\" may not approve step " + rec->path + " (allowed: " +
                              core::json(a.approvers).dump(-1, ' ', false, core::json::error_handler_t::replace) + ")");
    for (const auto& x : rec->approvals)
        if (x.approver == who && !who.empty())
            throw core::error(core::error_kind::conflict, who + " already approved step " + rec->path);
    auto path = rec->path;
    bool reject = req.reject;
    const auto& comment = req.comment;
    store::write_batch batch;
    record(*r, core::run_event::approval, {{"path", path}, {"approver", who}, {"reject", reject}, {"comment", comment}}, batch);
    flush(*r, std::move(batch));
    rec = r->rec.find(path);
    int approvals = static_cast<int>(std::count_if(rec->approvals.begin(), rec->approvals.end(), [](const auto& x) { return !x.reject; }));
    if (reject)
        settle(*r, path, core::step_state::failed, nullptr, "rejected by " + who + (comment.empty() ? "" : ": " + comment));
    else if (approvals >= std::max(1, a.required_approvals)) {
        core::json by = core::json::array();
        for (const auto& x : rec->approvals) by.push_back(x.approver);
        settle(*r, path, core::step_state::succeeded, {{"approved", true}, {"approvers", by}}, "");
    }
    advance(*r);
    reply(200, core::to_json(r->rec));
}

void runner::post_event(const std::string& type, const core::json& data, const std::string& key, api_reply reply) {
    const int started = hooks_.event ? hooks_.event(type, data, key) : 0;
    int matched = 0;
    for (auto& [id, r] : runs_) {
        if (core::is_terminal(r.rec.state)) continue;
        std::vector<std::string> woken;
        for (const auto& [path, s] : r.rec.steps)
            if (s.state == core::step_state::waiting && s.wait.kind == "event" && s.wait.event_type == type &&
                (s.wait.correlation_key.empty() || s.wait.correlation_key == key))
                woken.push_back(path);
        for (const auto& path : woken) settle(r, path, core::step_state::succeeded, data, "");
        if (!woken.empty()) {
            ++matched;
            advance(r);
        }
    }
    port_.commit({}, [reply, matched, started] { reply(202, {{"matched", matched}, {"started", started}}); });
}

void runner::rerun(const std::string& id, const std::string& from, api_reply reply) {
    auto* old = find_or_load(id);
    if (!old) throw no_run(id);
    auto it = std::find_if(old->wf->steps.begin(), old->wf->steps.end(), [&](const auto& s) { return s.id == from; });
    if (it == old->wf->steps.end())
        throw core::error(core::error_kind::invalid_input, "rerun --from " + from + ": no top-level step " + from + " in workflow " +
                                                               old->rec.workflow_id);
    // Steps downstream of `from` run again; every other recorded success is reused.
    std::set<std::string> again{from};
    for (bool grew = true; grew;) {
        grew = false;
        for (const auto& s : old->wf->steps)
            for (const auto& d : s.depends_on)
                if (again.count(d) && again.insert(s.id).second) grew = true;
    }
    core::json reused = core::json::object();
    for (const auto& s : old->wf->steps)
        if (const auto* rec = old->rec.find(s.id); rec && !again.count(s.id) &&
                                                  (rec->state == core::step_state::succeeded || rec->state == core::step_state::skipped))
            reused[s.id] = {{"output", rec->output}, {"type", rec->type}};
    run_request req;
    req.workflow_id = old->rec.workflow_id;
    req.inputs = old->rec.inputs;
    store::write_batch batch;
    auto& r = create_run(old->wf, old->rec.source, old->rec.file, req,
                         {{"version", old->rec.workflow_version}, {"reused", reused}, {"rerun_of", id}}, batch);
    auto new_id = r.rec.id;
    std::weak_ptr<runner> weak = weak_from_this();
    flush(r, std::move(batch), [weak, new_id, reply] {
        auto self = weak.lock();
        if (auto* run = self ? self->find_live(new_id) : nullptr) reply(201, core::to_json(run->rec));
    });
    if (r.rec.state == core::run_state::running) {
        arm_run_timeout(r);
        advance(r);
    }
}

}  // namespace orbitmesh::engine
