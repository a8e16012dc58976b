// Starting steps: conditions, containers, job/transform/delay/wait/approval/sub_workflow/notify.
#include <optional>

#include "core/traceparent.hpp"
#include "core/clock.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/expression_template.hpp"
#include "core/run_events.hpp"
#include "core/url.hpp"
#include "engine/workflow/notification_channels.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

namespace {

core::json step_base(const core::workflow_step& s, const std::string& path) {
    return {{"path", path}, {"id", s.id}, {"type", core::to_string(s.type)}};
}

core::json with(core::json base, const core::json& more) {
    base.update(more);
    return base;
}

core::json eval_field(const std::string& text, const core::json& ctx) {
    return core::evaluate(core::parse_expression_field(text), ctx);
}

/// The items of a foreach: a literal list (strings in it may hold `${{ }}`) or an expression.
core::json foreach_items(const core::foreach_step& fe, const core::json& ctx) {
    auto items = fe.collection.is_string() ? eval_field(fe.collection.get<std::string>(), ctx) : core::interpolate(fe.collection, ctx);
    if (!items.is_array())
        throw core::error(core::error_kind::invalid_input,
                          "foreach collection must give a list, not " + std::string(items.type_name()));
    return items;
}

/// The condition as written: the original format's JavaScript rather than its `__js.eN` slot.
std::string shown_condition(const core::workflow_step& s) {
    for (const auto& f : s.js)
        if (s.condition == "__js." + f.key) return "${" + f.source + "}";
    return s.condition;
}

/// A template as the file wrote it: in the original format, `${{ X }}` and the JavaScript slots
/// give back its `${X}`.
std::string shown_template(const core::workflow_step& s, std::string text, bool original) {
    for (const auto& f : s.js) {
        const std::string slot = "${{ __js." + f.key + " }}";
        for (auto at = text.find(slot); at != std::string::npos; at = text.find(slot, at))
            text.replace(at, slot.size(), "${" + f.source + "}");
    }
    if (!original) return text;
    for (auto at = text.find("${{ "); at != std::string::npos; at = text.find("${{ ", at)) {
        const auto close = text.find(" }}", at + 4);
        if (close == std::string::npos) break;
        text.replace(close, 3, "}");
        text.replace(at, 4, "${");
    }
    return text;
}

/// A copy of `s` whose timeout is the value of its template now (it may read step outputs).
core::workflow_step with_timeout(const core::workflow_step& s, const core::json& ctx, bool original) {
    const auto value = core::interpolate(core::json(s.timeout_template), ctx);
    const std::string what = "timeout " + shown_template(s, s.timeout_template, original);
    if (value.is_number())
        throw core::error(core::error_kind::invalid_input,
                          what + " gave the bare number " + value.dump() + ", which is ambiguous (write its unit: \"…s\", \"…m\")");
    const std::string text = core::stringify(value);
    const auto ms = core::parse_duration(text);
    if (!ms)
        throw core::error(core::error_kind::invalid_input,
                          what + " gave \"" + text + "\", which is not a duration (use 250ms, 30s, 5m, 1h, 2d, 1m30s or HH:MM:SS)");
    core::workflow_step out = s;
    out.timeout_ms = *ms;
    if (auto* job = out.job()) job->timeout_ms = *ms;
    return out;
}

}  // namespace

void runner::start_step(live_run& r, const step_def& s, const std::string& path, const scope& sc_in) {
    namespace ev = core::run_event;
    store::write_batch batch;
    auto base = step_base(s, path);
    try {
        // The original format's JavaScript ${…} are evaluated first, off the strand; the walk
        // starts the step again once their values are in.
        std::weak_ptr<runner> weak = weak_from_this();
        if (!js_ready(r, s, path, sc_in, [weak, id = r.rec.id] {
                auto self = weak.lock();
                if (auto* run = self ? self->find_live(id) : nullptr) self->advance(*run);
            }))
            return;
        const scope sc = with_js(r, s, path, sc_in);
        auto ctx = context(r, sc);
        if (!s.condition.empty() && !core::truthy(eval_field(s.condition, ctx))) {
            record(r, ev::step_skipped, with(base, {{"reason", "condition is false: " + shown_condition(s)}}), batch);
            return flush(r, std::move(batch));
        }
        switch (s.type) {
        case core::step_type::parallel: record(r, ev::step_started, with(base, {{"attempt", 1}}), batch); break;
        case core::step_type::conditional: {
            bool yes = core::truthy(eval_field(std::get<core::conditional_step>(s.config).expression, ctx));
            record(r, ev::step_started, with(base, {{"attempt", 1}, {"detail", {{"branch", yes ? "then" : "else"}}}}), batch);
            break;
        }
        case core::step_type::foreach: {
            auto items = foreach_items(std::get<core::foreach_step>(s.config), ctx);
            record(r, ev::step_started, with(base, {{"attempt", 1}, {"detail", {{"items", items}}}}), batch);
            break;
        }
        case core::step_type::transform: {
            auto value = eval_field(std::get<core::transform_step>(s.config).expression, ctx);
            record(r, ev::step_started, with(base, {{"attempt", 1}}), batch);
            record(r, ev::step_finished,
                   {{"path", path}, {"state", "succeeded"}, {"output", value}, {"variable", s.output_variable}}, batch);
            break;
        }
        default: flush(r, std::move(batch)); return start_leaf(r, s, path, sc, 1);
        }
    } catch (const core::error& e) {
        record(r, ev::step_finished, with(base, {{"state", "failed"}, {"error", std::string(e.what())}}), batch);
    }
    flush(r, std::move(batch));
}

void runner::start_leaf(live_run& r, const step_def& s, const std::string& path, const scope& sc_in, int attempt) {
    store::write_batch batch;
    try {
        std::weak_ptr<runner> weak = weak_from_this();
        if (!js_ready(r, s, path, sc_in, [weak, id = r.rec.id, path, attempt] {  // a retry after a hub restart
                auto self = weak.lock();
                auto* run = self ? self->find_live(id) : nullptr;
                const auto* def = run ? self->def_of(*run, path) : nullptr;
                const auto* rec = run ? run->rec.find(path) : nullptr;
                if (def && run->js_values.count(path) && !(rec && core::is_terminal(rec->state)))
                    self->start_leaf(*run, *def, path, self->scope_of(*run, path), attempt);
            }))
            return;
        const scope sc = with_js(r, s, path, sc_in);
        std::optional<step_def> timed;  // a computed timeout, evaluated for this attempt
        if (!s.timeout_template.empty()) timed = with_timeout(s, context(r, sc), r.wf && !r.wf->original_dialect.empty());
        const step_def& d = timed ? *timed : s;
        switch (d.type) {
        case core::step_type::job: start_job(r, d, path, sc, attempt, batch); break;
        case core::step_type::sub_workflow: start_sub_workflow(r, d, path, sc, attempt, batch); break;
        case core::step_type::notify: start_notify(r, d, path, sc, attempt, batch); break;
        case core::step_type::script: start_script(r, d, path, sc, attempt, batch); break;
        case core::step_type::http: start_http(r, d, path, sc, attempt, batch); break;
        default: start_waiting(r, d, path, sc, attempt, batch); break;
        }
    } catch (const core::error& e) {
        flush(r, std::move(batch));
        if (!r.rec.find(path)) {
            store::write_batch b;
            record(r, core::run_event::step_started, with(step_base(s, path), {{"attempt", attempt}}), b);
            flush(r, std::move(b));
        }
        return settle(r, path, core::step_state::failed, nullptr, "step " + path + ": " + e.what());
    }
    flush(r, std::move(batch));
}

core::job_spec runner::job_spec_for(const core::job_action& a, const step_def* s, const core::json& ctx) const {
    core::job_spec spec;
    spec.command = a.command;
    spec.payload = core::interpolate(a.payload, ctx);
    spec.target = a.target;
    // Every string of a step is a template (SPEC §4), targeting included.
    auto text = [&ctx](const std::string& v) { return core::stringify(core::interpolate(core::json(v), ctx)); };
    spec.command = text(a.command);
    spec.target.agent = text(a.target.agent);
    if (spec.target.agent == "*") spec.target.agent.clear();  // the original's `pattern: "*"`, also when computed
    for (auto& [key, value] : spec.target.tags) value = text(value);
    for (auto& cap : spec.target.capabilities) cap = text(cap);
    spec.priority = a.priority;
    spec.timeout_ms = a.timeout_ms;
    spec.limits = a.limits;
    spec.pending_timeout_ms = a.pending_timeout_ms;
    spec.retries.max = 0;  // the runner retries the step; each attempt is a new job
    if (s && s->on_agent_lost) spec.on_agent_lost = *s->on_agent_lost;
    core::validate(spec);
    return spec;
}

void runner::start_job(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                       store::write_batch& batch) {
    auto spec = job_spec_for(*s.job(), &s, context(r, sc));
    spec.secrets = r.wf->secrets;  // names only: the hub resolves them when it sends the job
    spec.trace = core::run_trace(r.rec.id).text();  // the run is one trace, each step's job a span in it
    spec.idempotency_key = "run-" + r.rec.id + "/" + path + "/" + std::to_string(attempt);
    std::vector<std::string> ids;
    if (s.job()->fan_out_all) {
        auto agents = port_.agents_for(spec);
        if (agents.empty())
            throw core::error(core::error_kind::unavailable, "fan_out: all found no connected agent that can run " +
                                                                 spec.command + " (start one with the needed capabilities and tags)");
        for (const auto& a : agents) {
            auto one = spec;
            one.target.agent = a.id;
            ids.push_back(port_.create_job(std::move(one), batch));
        }
    } else {
        ids.push_back(port_.create_job(spec, batch));
    }
    auto started = with(step_base(s, path), {{"attempt", attempt}, {"job_ids", ids}});
    if (!s.timeout_template.empty()) started["detail"] = {{"timeout_ms", s.timeout_ms}};  // re-armed from it after a restart
    record(r, core::run_event::step_started, std::move(started), batch);
    if (s.timeout_ms > 0) arm_step_timeout(r, path, attempt, s.timeout_ms);
}

void runner::start_waiting(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                           store::write_batch& batch) {
    auto now = core::now_ms();
    core::json w{{"path", path}};
    if (const auto* d = std::get_if<core::delay_step>(&s.config)) {
        w["kind"] = "delay";
        w["until"] = now + d->duration_ms;
    } else if (const auto* e = std::get_if<core::wait_for_event_step>(&s.config)) {
        w["kind"] = "event";
        w["event_type"] = e->event_type;
        w["correlation_key"] = core::stringify(core::interpolate(e->correlation_key, context(r, sc)));
        w["until"] = s.timeout_ms > 0 ? now + s.timeout_ms : 0;
    } else {
        w["kind"] = "approval";
        w["until"] = s.timeout_ms > 0 ? now + s.timeout_ms : 0;
        if (const auto* a = std::get_if<core::approval_step>(&s.config); a && !a->message.empty())
            w["message"] = core::stringify(core::interpolate(core::json(a->message), context(r, sc)));
    }
    record(r, core::run_event::step_started, with(step_base(s, path), {{"attempt", attempt}}), batch);
    record(r, core::run_event::step_waiting, w, batch);
    arm_wait(r, path, attempt, w["until"].get<std::int64_t>());
}

void runner::start_sub_workflow(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                                store::write_batch& batch) {
    const auto& sub = std::get<core::sub_workflow_step>(s.config);
    const auto* w = registry_.find(sub.workflow_id, sub.workflow_version);
    if (!w)
        throw core::error(core::error_kind::not_found,
                          "sub_workflow " + sub.workflow_id + " is not registered (POST /api/v1/workflows first)");
    run_request req;
    req.workflow_id = w->id;
    req.inputs = sub.input.is_null() ? core::json::object() : core::interpolate(sub.input, context(r, sc));
    auto& child = create_run(w->definition, w->source, w->file, req,
                             {{"version", w->version}, {"parent", {{"run", r.rec.id}, {"step", path}}}}, batch);
    record(r, core::run_event::step_started,
           with(step_base(s, path), {{"attempt", attempt}, {"detail", {{"child_run", child.rec.id}}}}), batch);
    if (!sub.wait_for_completion)
        record(r, core::run_event::step_finished,
               {{"path", path}, {"state", "succeeded"}, {"output", {{"run_id", child.rec.id}}}, {"variable", s.output_variable}},
               batch);
    if (child.rec.state == core::run_state::running) {
        arm_run_timeout(child);
        auto id = child.rec.id;
        std::weak_ptr<runner> weak = weak_from_this();
        port_.after(0, [weak, id] {
            auto self = weak.lock();
            if (auto* c = self ? self->find_live(id) : nullptr) self->advance(*c);
        });
    }
}

void runner::start_notify(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                          store::write_batch& batch) {
    const auto& n = std::get<core::notify_step>(s.config);
    auto note = render_notification(n, context(r, sc), opts_.notify_channels);
    if (note.to_log) return notify_log(r, s, path, attempt, std::move(note), batch);
    auto target = note.url;
    auto url = core::parse_server_url(target);
    if (target.find(':', 7) == std::string::npos || target.find(':', 7) > target.find('/', 7)) url.port = 80;
    core::json body = std::move(note.body);
    body["run"] = r.rec.id;
    body["step"] = path;
    record(r, core::run_event::step_started, with(step_base(s, path), {{"attempt", attempt}}), batch);
    std::weak_ptr<runner> weak = weak_from_this();
    auto report = [weak, post = post_, run = r.rec.id, path, attempt](std::string error) {
        post([weak, run, path, attempt, error = std::move(error)] {
            if (auto self = weak.lock()) self->notify_done(run, path, attempt, error.empty(), error);
        });
    };
    notify_delivery d{url, body.dump(-1, ' ', false, core::json::error_handler_t::replace), std::chrono::milliseconds(opts_.notify_timeout_ms), report};
    if (!notify_->submit(std::move(d)))
        report("notify: " + std::to_string(notify_->max_queued()) +
               " webhooks are already waiting to be sent (slow webhook targets?); the step can retry");
}

void runner::arm_step_timeout(live_run& r, const std::string& path, int attempt, std::int64_t delay_ms) {
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(std::max<std::int64_t>(0, delay_ms), [weak, id = r.rec.id, path, attempt] {
        if (auto self = weak.lock()) self->step_timed_out(id, path, attempt);
    });
}

void runner::arm_wait(live_run& r, const std::string& path, int attempt, std::int64_t until_ms) {
    if (until_ms <= 0) return;
    std::weak_ptr<runner> weak = weak_from_this();
    port_.after(std::max<std::int64_t>(0, until_ms - core::now_ms()), [weak, id = r.rec.id, path, attempt] {
        if (auto self = weak.lock()) self->wait_elapsed(id, path, attempt);
    });
}

}  // namespace orbitmesh::engine
