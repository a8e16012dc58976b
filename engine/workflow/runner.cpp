// The runner's core: recording run events, committing them, the run lifecycle and recovery.
#include "engine/workflow/runner.hpp"

#include "core/log.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/ids.hpp"
#include "core/run_events.hpp"
#include "core/workflow_inputs.hpp"
#include "engine/hub/hub_log.hpp"

namespace orbitmesh::engine {

namespace {

void runner_log(const std::string& line) { core::log::write("serve", core::log::level::info, "workflow runner: " + line); }

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }

}  // namespace

runner::runner(job_port& port, strand_poster post, runner_options opts)
    : port_(port),
      post_(std::move(post)),
      opts_(opts),
      notify_(std::make_unique<notify_worker>(opts_.notify_threads, opts_.notify_queue, opts_.notify_post)) {}

void runner::record(live_run& r, std::string_view type, core::json data, store::write_batch& batch) {
    auto e = core::make_run_event(r.rec, type, std::move(data));
    core::apply(r.rec, e);  // throws before anything is queued when the transition is illegal
    on_applied(r, e);
    stage_row(r, e, batch);
    batch.events.push_back(std::move(e));
}

void runner::on_applied(live_run& r, const core::event& e) {
    namespace ev = core::run_event;
    const auto& d = e.data;
    if (e.type == ev::step_started) {
        for (const auto& id : d.value("job_ids", std::vector<std::string>{})) jobs_[id] = {r.rec.id, d.value("path", ""), false};
    } else if (e.type == ev::compensating && d.contains("job_id")) {
        jobs_[d["job_id"].get<std::string>()] = {r.rec.id, d.value("path", ""), true};
    } else if (e.type == ev::started && !r.rec.idempotency_key.empty()) {
        idempotency_[r.rec.idempotency_key] = r.rec.id;
    } else if (e.type == ev::step_finished || e.type == ev::step_skipped) {
        r.js_values.erase(d.value("path", ""));
    } else if (e.type == ev::finished) {
        for (const auto& [path, s] : r.rec.steps)
            for (const auto& id : s.job_ids) jobs_.erase(id);
        for (const auto& c : r.rec.compensations) jobs_.erase(c.job_id);
    }
    core::json f{{"type", e.type}, {"time", core::format_time(e.time_ms)}};
    if (e.type == ev::step_skipped) {
        f["type"] = ev::step_finished;
        f["state"] = "skipped";
    }
    static const std::vector<std::string_view> shown{ev::started, ev::step_started, ev::step_finished, ev::step_skipped,
                                                     ev::step_waiting, ev::compensating, ev::compensated, ev::finished};
    if (std::find(shown.begin(), shown.end(), e.type) == shown.end()) return;
    for (const auto& [k, v] : d.items())
        if (k != "source" && k != "path" && k != "type" && k != "id") f[k] = v;
    if (d.contains("path")) f["step"] = d["path"];
    if (e.type == ev::started) f["workflow"] = d.value("workflow", core::json::object());
    feed(r, std::move(f));
    if (r.advancing) r.again = true;
}

void runner::flush(live_run& r, store::write_batch batch, std::function<void()> then) {
    if (r.advancing) r.again = true;
    if (batch.empty()) {
        if (then) then();
        return;
    }
    std::weak_ptr<runner> weak = weak_from_this();
    port_.commit(std::move(batch), [weak, id = r.rec.id, then = std::move(then)] {
        auto self = weak.lock();
        if (!self) return;
        if (auto* run = self->find_live(id)) {
            self->wake(*run);
            if (core::is_terminal(run->rec.state) && !run->prunable) {  // its final row is durable now
                run->prunable = true;
                self->row_committed(id, run->rec.version);
            }
        }
        if (then) then();
    });
}

runner::live_run* runner::find_live(const std::string& id) {
    auto it = runs_.find(id);
    return it == runs_.end() ? nullptr : &it->second;
}

const core::run_record* runner::find_run(const std::string& id) const {
    auto it = runs_.find(id);
    return it == runs_.end() ? nullptr : &it->second.rec;
}

int runner::active_runs(const std::string& workflow_id) const {
    int n = 0;
    for (const auto& [id, r] : runs_)
        if (r.rec.workflow_id == workflow_id && r.rec.state == core::run_state::running) ++n;
    return n;
}

runner::live_run& runner::create_run(const std::shared_ptr<const core::workflow>& wf, const std::string& source,
                                     const std::string& file, const run_request& req, core::json extra,
                                     store::write_batch& batch) {
    auto inputs = core::resolve_inputs(*wf, req.inputs.is_null() ? core::json::object() : req.inputs);
    auto id = core::new_id();
    auto& r = runs_[id];
    r.rec.id = id;
    r.wf = wf;
    core::json order = core::json::array();
    core::json needs = core::json::object();
    for (const auto& s : wf->steps) {
        order.push_back(s.id);
        if (!s.depends_on.empty()) needs[s.id] = s.depends_on;
    }
    bool pending = wf->concurrency > 0 && active_runs(wf->id) >= wf->concurrency;
    core::json data{{"id", id},
                    {"workflow", {{"id", wf->id}, {"name", wf->name.empty() ? wf->id : wf->name},
                                  {"version", extra.value("version", wf->version)}}},
                    {"file", file},
                    {"source", source},
                    {"inputs", inputs},
                    {"vars", wf->variables.is_object() ? wf->variables : core::json::object()},
                    {"timeout_ms", req.timeout_ms > 0 ? req.timeout_ms : wf->timeout_ms},
                    {"idempotency_key", req.idempotency_key},
                    {"pending", pending},
                    {"step_order", std::move(order)},
                    {"step_needs", std::move(needs)}};
    extra.erase("version");
    data.update(extra);
    try {
        record(r, core::run_event::started, std::move(data), batch);
    } catch (...) {
        runs_.erase(id);
        throw;
    }
    return r;
}

void runner::start_run(run_request req, api_reply reply) {
    if (!req.idempotency_key.empty())
        if (auto it = idempotency_.find(req.idempotency_key); it != idempotency_.end()) {
            if (auto* existing = find_live(it->second)) return reply(200, core::to_json(existing->rec));
            if (auto stored = port_.stored_run(it->second)) return reply(200, *stored);  // ended and left memory
        }
    const auto* w = registry_.find(req.workflow_id, req.version);
    if (!w)
        throw core::error(core::error_kind::not_found,
                          "workflow " + req.workflow_id + (req.version.empty() ? "" : " version " + req.version) +
                              " is not registered (register it first: POST /api/v1/workflows)");
    store::write_batch batch;
    auto& r = create_run(w->definition, w->source, w->file, req, {{"version", w->version}}, batch);
    auto id = r.rec.id;
    // On a shared store another hub may hold the key (both reached one schedule fire time): the
    // run starts its steps only once the store took it (run_refused drops it otherwise).
    const bool wait_for_key = port_.shared_store() && !req.idempotency_key.empty();
    std::weak_ptr<runner> weak = weak_from_this();
    flush(r, std::move(batch), [weak, id, reply, wait_for_key] {
        auto self = weak.lock();
        if (!self) return;
        if (auto* run = self->find_live(id)) {
            reply(201, core::to_json(run->rec));
            if (wait_for_key && run->rec.state == core::run_state::running) {
                self->arm_run_timeout(*run);
                self->advance(*run);
            }
            return;
        }
        auto holder = self->superseded_.find(id);
        if (holder == self->superseded_.end()) return;
        const auto other = holder->second;
        self->superseded_.erase(holder);
        auto found = self->foreign_record(other);
        reply(200, found ? *found : core::json{{"id", other}, {"idempotency_key", ""}});
    });
    if (!wait_for_key && r.rec.state == core::run_state::running) {
        arm_run_timeout(r);
        advance(r);
    }
}

void runner::run_refused(const std::string& run_id, const store::refused_event& r) {
    auto it = runs_.find(run_id);
    if (it == runs_.end()) return;
    if (r.type == core::run_event::started && !r.holder.empty()) {
        runner_log("run " + run_id + " was not started: " + r.reason);
        if (!it->second.rec.idempotency_key.empty()) idempotency_[it->second.rec.idempotency_key] = r.holder;
        superseded_[run_id] = r.holder;
    } else {
        runner_log("stops driving run " + run_id + ": " + r.reason);
    }
    drop_run(run_id);
}

void runner::arm_run_timeout(live_run& r) {
    if (r.rec.timeout_ms <= 0 || core::is_terminal(r.rec.state)) return;
    auto left = std::max<std::int64_t>(0, r.rec.started_ms + r.rec.timeout_ms - core::now_ms());
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(left, [weak, id = r.rec.id] {
        auto self = weak.lock();
        auto* run = self ? self->find_live(id) : nullptr;
        if (!run || run->rec.state != core::run_state::running) return;  // an ending run is stopped too
        store::write_batch batch;
        self->begin_ending(*run, core::run_state::timed_out,
                           "run timed out after " + std::to_string(run->rec.timeout_ms) + " ms", true, batch);
        self->flush(*run, std::move(batch));
        self->advance(*run);
    });
}

void runner::admit_pending(const std::string& workflow_id) {
    for (auto& [id, r] : runs_) {
        if (r.rec.workflow_id != workflow_id || r.rec.state != core::run_state::pending) continue;
        if (r.wf->concurrency > 0 && active_runs(workflow_id) >= r.wf->concurrency) return;
        store::write_batch batch;
        record(r, core::run_event::admitted, core::json::object(), batch);
        flush(r, std::move(batch));
        arm_run_timeout(r);
        advance(r);
    }
}

void runner::replay(const core::event& e) {
    try {
        if (starts_with(e.stream, "workflow-")) return registry_.apply(e);
        if (!starts_with(e.stream, "run-")) return;
        fold_into(e.stream.substr(4), e);
    } catch (const std::exception& err) {
        runner_log("recovery: skipped event " + std::to_string(e.seq) + " of " + e.stream + ": " + err.what());
        if (starts_with(e.stream, "run-"))
            if (auto it = runs_.find(e.stream.substr(4)); it != runs_.end() && !it->second.wf) runs_.erase(it);
    }
}

void runner::foreign_event(const core::event& e) {
    if (starts_with(e.stream, "run-")) {
        if (e.type == core::run_event::finished) foreign_run_ended(e.stream.substr(4));
        return;
    }
    if (!starts_with(e.stream, "workflow-") || e.type != "workflow.registered") return;
    try {
        registry_.apply(e);
    } catch (const std::exception& err) {
        return runner_log("shared store: skipped workflow event " + std::to_string(e.seq) + " of another hub: " + err.what());
    }
    if (hooks_.registered) hooks_.registered(e.data.value("id", std::string{}));
}

void runner::recovered() {
    recovering_ = false;
    definitions_.clear();
    // Every run in memory gets its row written once: a store from before the `runs` table has
    // none, and rows of in-flight runs may lag their events after a crash.
    store::write_batch rows;
    for (auto& [id, r] : runs_) {
        rows.runs.emplace_back(r.rec);
        if (!r.rec.idempotency_key.empty()) rows.keys.push_back({"run", r.rec.idempotency_key, id, r.rec.created_ms});
    }
    if (!rows.empty()) {
        std::vector<std::pair<std::string, std::int64_t>> ended;
        for (const auto& [id, r] : runs_)
            if (core::is_terminal(r.rec.state)) ended.emplace_back(id, r.rec.version);
        std::weak_ptr<runner> weak = weak_from_this();
        port_.commit(std::move(rows), [weak, ended] {
            auto self = weak.lock();
            if (!self) return;
            for (const auto& [id, version] : ended) {
                auto* run = self->find_live(id);
                if (!run || run->prunable) continue;
                run->prunable = true;
                self->row_committed(id, version);
            }
        });
    }
    std::size_t resumed = 0;
    for (auto& [id, r] : runs_) {
        if (core::is_terminal(r.rec.state) || r.rec.state == core::run_state::pending) continue;
        ++resumed;
        resume_after_recovery(r);
    }
    for (auto& [id, r] : runs_)
        if (!core::is_terminal(r.rec.state)) advance(r);
    std::vector<std::string> ids;
    for (auto& [id, r] : runs_)
        if (r.rec.state == core::run_state::pending) ids.push_back(r.rec.workflow_id);
    for (const auto& w : ids) admit_pending(w);
    if (!runs_.empty()) runner_log("resumed " + std::to_string(resumed) + " unfinished runs of " + std::to_string(runs_.size()));
}

void runner::adopt_run(const std::string& id) {
    if (find_live(id)) return;  // already driven here
    auto* r = load_from_log(id);
    if (!r) return;
    runner_log("took over run " + id + " (" + r->rec.workflow_id + ", " + std::string(core::to_string(r->rec.state)) +
               ") from a hub that stopped beating");
    if (core::is_terminal(r->rec.state)) return;
    if (r->rec.state == core::run_state::pending) return admit_pending(r->rec.workflow_id);
    resume_after_recovery(*r);
    advance(*r);
}

void runner::resume_after_recovery(live_run& r) {
    arm_run_timeout(r);
    std::vector<std::string> paths;
    for (const auto& [path, s] : r.rec.steps) paths.push_back(path);
    for (const auto& path : paths) {
        auto* s = r.rec.find(path);
        const auto* def = def_of(r, path);
        if (!s || !def) continue;
        if (s->state == core::step_state::waiting) {
            arm_wait(r, path, s->attempts, s->wait.until_ms);
        } else if (s->state == core::step_state::running && def->type == core::step_type::job) {
            if (const auto t = s->detail.value("timeout_ms", def->timeout_ms); t > 0)  // computed ones are in detail
                arm_step_timeout(r, path, s->attempts, s->attempt_started_ms + t - core::now_ms());
            on_step_job(r, path);  // a job that ended while the hub was down settles now
        } else if (s->state == core::step_state::running &&
                   (def->type == core::step_type::notify || def->type == core::step_type::script || def->type == core::step_type::http)) {
            start_leaf(r, *def, path, scope_of(r, path), s->attempts + 1);  // at least once
        } else if (s->state == core::step_state::running && def->type == core::step_type::sub_workflow) {
            auto child = s->detail.value("child_run", std::string{});
            if (auto* c = find_or_load(child); c && core::is_terminal(c->rec.state)) child_finished(*c);
        } else if (s->state == core::step_state::compensating) {
            for (const auto& c : r.rec.compensations)
                if (c.step == path && c.state == "running")
                    if (const auto* job = port_.job(c.job_id); job && core::is_terminal(job->state))
                        on_compensation_job(r, path, *job);
        }
    }
}

void runner::job_ended(const core::job_record& job) {
    auto it = jobs_.find(job.id);
    if (it == jobs_.end()) return;
    auto ref = it->second;
    auto* r = find_live(ref.run);
    if (!r) return;
    if (ref.compensation)
        on_compensation_job(*r, ref.path, job);
    else
        on_step_job(*r, ref.path);
    advance(*r);
}

void runner::job_output(const store::log_line& line) {
    auto it = jobs_.find(line.job_id);
    if (it == jobs_.end()) return;
    auto* r = find_live(it->second.run);
    if (!r) return;
    feed(*r, {{"type", "step.log"}, {"time", core::format_time(line.time_ms)}, {"step", it->second.path},
              {"job_id", line.job_id}, {"attempt", line.attempt}, {"stream", line.stream}, {"data", line.data}});
    wake(*r);
}

void runner::add_stats(core::json& stats) const {
    constexpr std::size_t states = static_cast<std::size_t>(core::run_state::timed_out) + 1;
    std::array<std::int64_t, states> counts{};
    for (const auto& [id, r] : runs_) ++counts[static_cast<std::size_t>(r.rec.state)];
    core::json runs = core::json::object();
    for (std::size_t i = 0; i < states; ++i) {
        const std::string name(core::to_string(static_cast<core::run_state>(i)));
        auto it = pruned_counts_.find(name);
        runs[name] = counts[i] + (it == pruned_counts_.end() ? 0 : it->second);
    }
    stats["runs"] = std::move(runs);
}

}  // namespace orbitmesh::engine
