// The end of a run: failing or cancelling, compensating completed steps in reverse, finishing.
#include <algorithm>

#include "core/traceparent.hpp"
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/retry_delay.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

void runner::cancel_once(const std::string& job_id, const std::string& reason) {
    if (!cancel_sent_.insert(job_id).second) return;
    if (cancel_sent_.size() > 100'000) cancel_sent_.clear();  // bounded; a repeated cancel is harmless
    port_.cancel_job(job_id, reason);
}

void runner::begin_ending(live_run& r, core::run_state state, const std::string& error, bool abort_running,
                          store::write_batch& batch) {
    if (core::is_terminal(r.rec.state)) return;
    if (r.rec.ending) {
        // Already failing and waiting for its running steps: a cancel or the run's timeout must
        // still end it, so stop those steps (and a compensation in flight) instead of waiting.
        if (abort_running) abort_steps(r, "run " + r.rec.id + " " + std::string(core::to_string(state)));
        return;
    }
    record(r, core::run_event::ending, {{"state", core::to_string(state)}, {"error", error}}, batch);
    auto why = "run " + r.rec.id + " " + std::string(core::to_string(state));
    std::vector<std::string> paths;
    for (const auto& [path, s] : r.rec.steps) paths.push_back(path);
    for (const auto& path : paths) {
        const auto& s = *r.rec.find(path);
        if (s.state == core::step_state::waiting) {
            bool retrying = s.wait.kind == "retry";
            record(r, core::run_event::step_finished,
                   {{"path", path}, {"state", retrying ? "failed" : "cancelled"}, {"error", retrying ? s.error : why}}, batch);
        } else if (s.state == core::step_state::running && abort_running) {
            for (const auto& id : s.job_ids) cancel_once(id, why);
            if (auto* child = find_live(s.detail.value("child_run", std::string{})))
                cancel_run_now(*child, core::run_state::cancelled, "parent " + why);
        }
    }
}

void runner::abort_steps(live_run& r, const std::string& why) {
    for (const auto& [path, s] : r.rec.steps) {
        if (s.state != core::step_state::running) continue;
        for (const auto& id : s.job_ids) cancel_once(id, why);
        if (auto* child = find_live(s.detail.value("child_run", std::string{})))
            cancel_run_now(*child, core::run_state::cancelled, "parent " + why);
    }
    for (const auto& c : r.rec.compensations)
        if (c.state == "running" && !c.job_id.empty()) cancel_once(c.job_id, why);
    r.aborted = true;
}

void runner::cancel_run_now(live_run& r, core::run_state state, const std::string& reason) {
    if (core::is_terminal(r.rec.state)) return;
    if (r.rec.state == core::run_state::pending) return finish_run(r, state);
    store::write_batch batch;
    begin_ending(r, state, reason, true, batch);
    flush(r, std::move(batch));
    advance(r);
}

void runner::compensate_next(live_run& r) {
    if (!r.rec.ending || core::is_terminal(r.rec.state)) return;
    for (const auto& c : r.rec.compensations)
        if (c.state == "running") return;  // one at a time, in reverse completion order
    if (r.wf->on_error.compensate) {
        const core::step_record* next = nullptr;
        for (const auto& [path, s] : r.rec.steps) {
            const auto* def = def_of(r, path);
            if (s.state != core::step_state::succeeded || s.completed_order == 0 || !def || !def->compensation) continue;
            if (!next || s.completed_order > next->completed_order) next = &s;
        }
        if (next) return start_compensation(r, next->path, 1);
    }
    finish_run(r, *r.rec.ending);
}

void runner::start_compensation(live_run& r, const std::string& path, int attempt) {
    const auto* def = def_of(r, path);
    const auto* rec = r.rec.find(path);
    if (!def || !def->compensation || !rec) return;
    store::write_batch batch;
    try {
        auto ctx = context(r, scope_of(r, path));
        ctx["output"] = rec->output;
        auto spec = job_spec_for(*def->compensation, def, ctx);
        spec.secrets = r.wf->secrets;
        spec.trace = core::run_trace(r.rec.id).text();
        spec.idempotency_key = "run-" + r.rec.id + "/" + path + "/compensation/" + std::to_string(attempt);
        auto id = port_.create_job(std::move(spec), batch);
        record(r, core::run_event::compensating, {{"path", path}, {"job_id", id}, {"attempt", attempt}}, batch);
    } catch (const core::error& e) {
        store::write_batch failed;
        record(r, core::run_event::compensating, {{"path", path}, {"attempt", attempt}}, failed);
        record(r, core::run_event::compensated, {{"path", path}, {"state", "failed"}, {"error", e.what()}}, failed);
        return flush(r, std::move(failed));
    }
    flush(r, std::move(batch));
}

void runner::on_compensation_job(live_run& r, const std::string& path, const core::job_record& job) {
    const core::compensation_record* c = nullptr;
    for (const auto& x : r.rec.compensations)
        if (x.step == path && x.state == "running" && x.job_id == job.id) c = &x;
    const auto* def = def_of(r, path);
    if (!c || !def || !def->compensation) return;
    int attempt = c->attempts;
    const auto& retry = def->compensation->retry;
    if (job.state != core::job_state::succeeded && attempt <= retry.max && !r.aborted) {
        std::weak_ptr<runner> weak = weak_from_this();
        auto delay = core::retry_delay_ms(retry.backoff, retry.delay_ms, retry.max_delay_ms, attempt);
        port_.after(delay, [weak, id = r.rec.id, path, attempt, job_id = job.id] {
            auto self = weak.lock();
            auto* run = self ? self->find_live(id) : nullptr;
            if (!run) return;
            for (const auto& x : run->rec.compensations)
                if (x.step == path && x.state == "running" && x.job_id == job_id) self->start_compensation(*run, path, attempt + 1);
        });
        return;
    }
    store::write_batch batch;
    record(r, core::run_event::compensated,
           {{"path", path}, {"state", core::to_string(job.state)}, {"error", job.error}, {"output", job.output}}, batch);
    flush(r, std::move(batch));
    advance(r);
}

void runner::finish_run(live_run& r, core::run_state state) {
    if (core::is_terminal(r.rec.state)) return;
    store::write_batch batch;
    record(r, core::run_event::finished, {{"state", core::to_string(state)}, {"error", r.rec.error}}, batch);
    std::weak_ptr<runner> weak = weak_from_this();
    flush(r, std::move(batch), [weak, id = r.rec.id, workflow = r.rec.workflow_id] {
        auto self = weak.lock();
        auto* run = self ? self->find_live(id) : nullptr;
        if (!run) return;
        if (!run->rec.parent_run.empty()) self->child_finished(*run);
        self->admit_pending(workflow);
        if (self->hooks_.event)  // `run.succeeded`, `run.failed`, …: event triggers may start runs
            self->hooks_.event("run." + std::string(core::to_string(run->rec.state)), core::to_json(run->rec), "");
    });
}

void runner::wake(live_run& r) {
    bool done = core::is_terminal(r.rec.state);
    auto feed_ready = [&](const waiter& w) { return done || w.after < r.feed_seq; };
    auto ready = std::stable_partition(r.feed_waiters.begin(), r.feed_waiters.end(), [&](const waiter& w) { return !feed_ready(w); });
    std::vector<waiter> due(std::make_move_iterator(ready), std::make_move_iterator(r.feed_waiters.end()));
    r.feed_waiters.erase(ready, r.feed_waiters.end());
    for (auto& w : due) w.reply(200, feed_reply(r, w.after));
    if (!done) return;
    auto ends = std::move(r.end_waiters);
    r.end_waiters.clear();
    for (auto& w : ends) w.reply(200, core::to_json(r.rec));
}

}  // namespace orbitmesh::engine
