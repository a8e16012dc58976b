// Step outcomes: jobs ending, retries with backoff, step timeouts, elapsed waits, child runs.
#include <map>

#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/retry_delay.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

namespace {

core::step_state step_state_of(core::job_state s) {
    switch (s) {
    case core::job_state::succeeded: return core::step_state::succeeded;
    case core::job_state::cancelled: return core::step_state::cancelled;
    case core::job_state::timed_out: return core::step_state::timed_out;
    default: return core::step_state::failed;
    }
}

/// The step's own `retry`, else the retry written on its job action.
core::step_retry retry_of(const core::workflow_step& s) {
    if (s.retry.max > 0 || !s.job()) return s.retry;
    return s.job()->retry;
}

/// One element of an original-format `pattern:` job's output, in the original's words.
core::json per_agent_result(const core::job_record* job) {
    if (!job) return {{"status", "Failed"}, {"error", "the job is unknown to the hub"}};
    static const std::map<core::job_state, const char*> names{{core::job_state::succeeded, "Completed"},
                                                              {core::job_state::cancelled, "Cancelled"},
                                                              {core::job_state::timed_out, "TimedOut"}};
    auto name = names.find(job->state);
    return {{"agentId", job->agent_id}, {"agentName", job->agent_name}, {"jobId", job->id},
            {"status", name == names.end() ? "Failed" : name->second}, {"result", job->output}, {"error", job->error},
            {"exitCode", job->exit_code ? core::json(*job->exit_code) : core::json()}};
}

bool retriable(core::step_type t) {
    return t == core::step_type::job || t == core::step_type::notify || t == core::step_type::sub_workflow ||
           t == core::step_type::script || t == core::step_type::http;
}

}  // namespace

void runner::on_step_job(live_run& r, const std::string& path) {
    const auto* rec = r.rec.find(path);
    const auto* def = def_of(r, path);
    if (!rec || !def || rec->state != core::step_state::running || !def->job()) return;
    core::json outputs = core::json::array();
    auto state = core::step_state::succeeded;
    std::string error;
    for (const auto& id : rec->job_ids) {
        const auto* job = port_.job(id);
        if (job && !core::is_terminal(job->state)) return;  // fan_out: wait for every agent
        auto st = job ? step_state_of(job->state) : core::step_state::failed;
        outputs.push_back(def->job()->per_agent_results ? per_agent_result(job) : job ? job->output : core::json());
        if (st != core::step_state::succeeded && state == core::step_state::succeeded) {
            state = st;
            error = job ? "job " + id + " " + std::string(core::to_string(job->state)) + (job->error.empty() ? "" : ": " + job->error)
                        : "job " + id + " is unknown to the hub";
        }
    }
    for (const auto& id : rec->job_ids) cancel_sent_.erase(id);
    auto output = def->job()->fan_out_all ? outputs : (outputs.empty() ? core::json() : outputs[0]);
    settle(r, path, state, std::move(output), std::move(error));
}

void runner::settle(live_run& r, const std::string& path, core::step_state state, core::json output, std::string error) {
    const auto* rec = r.rec.find(path);
    const auto* def = def_of(r, path);
    if (!rec || !def || core::is_terminal(rec->state)) return;
    store::write_batch batch;
    auto retry = retry_of(*def);
    if (state != core::step_state::succeeded && !r.rec.ending && retriable(def->type) && rec->attempts >= 1 &&
        rec->attempts <= retry.max) {
        auto until = core::now_ms() + core::retry_delay_ms(retry.backoff, retry.delay_ms, retry.max_delay_ms, rec->attempts);
        int attempt = rec->attempts;
        record(r, core::run_event::step_waiting,
               {{"path", path}, {"kind", "retry"}, {"until", until}, {"attempt", attempt}, {"error", error}}, batch);
        flush(r, std::move(batch));
        return arm_wait(r, path, attempt, until);
    }
    core::json d{{"path", path}, {"state", core::to_string(state)}, {"output", std::move(output)}, {"error", error}};
    if (state == core::step_state::succeeded && !def->output_variable.empty()) d["variable"] = def->output_variable;
    std::string agents;  // where the step's job(s) ran, for `status RUN` and the run record
    for (const auto& id : rec->job_ids)
        if (const auto* job = port_.job(id); job && !job->agent_name.empty())
            agents += (agents.empty() ? "" : ",") + job->agent_name;
    if (!agents.empty()) d["agent"] = agents;
    record(r, core::run_event::step_finished, std::move(d), batch);
    flush(r, std::move(batch));
}

void runner::step_timed_out(const std::string& run_id, const std::string& path, int attempt) {
    auto* r = find_live(run_id);
    const auto* rec = r ? r->rec.find(path) : nullptr;
    if (!rec || rec->state != core::step_state::running || rec->attempts != attempt) return;
    const auto* def = def_of(*r, path);
    for (const auto& id : rec->job_ids) cancel_once(id, "step " + path + " of run " + run_id + " timed out");
    settle(*r, path, core::step_state::timed_out, nullptr,
           "step " + path + " timed out after " + core::format_duration(rec->detail.value("timeout_ms", def ? def->timeout_ms : 0)));
    advance(*r);
}

void runner::wait_elapsed(const std::string& run_id, const std::string& path, int attempt) {
    auto* r = find_live(run_id);
    const auto* rec = r ? r->rec.find(path) : nullptr;
    if (!rec || rec->state != core::step_state::waiting || rec->attempts != attempt) return;
    const auto* def = def_of(*r, path);
    const auto& kind = rec->wait.kind;
    if (kind == "retry") return retry_due(run_id, path, attempt);
    if (kind == "delay") {
        settle(*r, path, core::step_state::succeeded, nullptr, "");
    } else if (kind == "event") {
        settle(*r, path, core::step_state::timed_out, nullptr,
               "no " + rec->wait.event_type + " event arrived before the step's timeout");
    } else if (const auto* a = def ? std::get_if<core::approval_step>(&def->config) : nullptr) {
        if (a->timeout_action == core::approval_timeout_action::approve)
            settle(*r, path, core::step_state::succeeded, {{"approved", true}, {"timed_out", true}}, "");
        else
            settle(*r, path, a->timeout_action == core::approval_timeout_action::reject ? core::step_state::failed
                                                                                         : core::step_state::timed_out,
                   nullptr, "approval of step " + path + " timed out");
    }
    advance(*r);
}

void runner::retry_due(const std::string& run_id, const std::string& path, int attempt) {
    auto* r = find_live(run_id);
    const auto* def = r ? def_of(*r, path) : nullptr;
    if (!def) return;
    if (r->rec.ending) {
        const auto* rec = r->rec.find(path);
        settle(*r, path, core::step_state::failed, nullptr, rec ? rec->error : "");
    } else if (r->rec.paused) {
        arm_wait(*r, path, attempt, core::now_ms() + 1000);  // no new attempts while paused
        return;
    } else {
        start_leaf(*r, *def, path, scope_of(*r, path), attempt + 1);
    }
    advance(*r);
}

void runner::notify_done(const std::string& run_id, const std::string& path, int attempt, bool ok, std::string error) {
    auto* r = find_live(run_id);
    const auto* rec = r ? r->rec.find(path) : nullptr;
    if (!rec || rec->state != core::step_state::running || rec->attempts != attempt) return;
    settle(*r, path, ok ? core::step_state::succeeded : core::step_state::failed,
           ok ? core::json{{"delivered", true}} : core::json(), std::move(error));
    advance(*r);
}

void runner::child_finished(const live_run& child) {
    auto* parent = find_live(child.rec.parent_run);
    const auto* rec = parent ? parent->rec.find(child.rec.parent_step) : nullptr;
    if (!rec || rec->state != core::step_state::running || rec->detail.value("child_run", "") != child.rec.id) return;
    bool ok = child.rec.state == core::run_state::succeeded;
    auto path = rec->path;
    settle(*parent, path, ok ? core::step_state::succeeded : core::step_state::failed, core::run_outputs(child.rec),
           ok ? "" : "sub-workflow run " + child.rec.id + " " + std::string(core::to_string(child.rec.state)) + ": " + child.rec.error);
    advance(*parent);
}

}  // namespace orbitmesh::engine
