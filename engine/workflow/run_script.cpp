// JavaScript in runs: `script` steps and the original format's `${…}` that only JavaScript reads,
// evaluated on worker threads (never on the hub strand) and handed back by posting.
#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"
#include "engine/workflow/step_pool.hpp"

namespace orbitmesh::engine {

namespace {

core::json step_base(const core::workflow_step& s, const std::string& path) {
    return {{"path", path}, {"id", s.id}, {"type", core::to_string(s.type)}};
}

// "workflow.yaml:57 (script line 3): TypeError: …" — the file line when the run knows its file.
std::string script_error(const core::workflow& wf, const core::workflow_step& s, const js_outcome& out) {
    const auto* code = std::get_if<core::script_step>(&s.config);
    if (out.line <= 0 || !code) return out.error;
    std::string where = "script line " + std::to_string(out.line);
    if (code->code_line > 0 && !wf.source_file.empty())
        where = wf.source_file + ":" + std::to_string(code->code_line + out.line - 1) + " (" + where + ")";
    return where + ": " + out.error;
}

}  // namespace

runner::~runner() = default;

void runner::set_hub_address(const std::string& host, std::uint16_t port) { opts_.http.set_hub(host, port); }

const js_engine& runner::javascript() {
    if (!opts_.js) opts_.js = js_engine::locate();
    return *opts_.js;
}

void runner::offload(const std::string& what, std::function<void(const std::atomic<bool>&)> work) {
    if (!pool_) pool_ = std::make_shared<step_pool>(opts_.workers, opts_.max_queued);
    if (!pool_->submit(std::move(work)))
        throw core::error(core::error_kind::queue_full, what + " cannot start: the hub's script and http queue is full (" +
                                                            std::to_string(pool_->max_queued()) + " waiting); retry later");
}

runner::scope runner::with_js(const live_run& r, const step_def& s, const std::string& path, const scope& sc) const {
    if (s.js.empty()) return sc;
    scope out = sc;
    auto it = r.js_values.find(path);
    out.locals["__js"] = it == r.js_values.end() ? core::json::object() : it->second;
    return out;
}

bool runner::js_ready(live_run& r, const step_def& s, const std::string& path, const scope& sc, std::function<void()> then) {
    if (s.js.empty() || r.js_values.count(path)) return true;
    if (!r.js_pending.insert(path).second) return false;  // already being evaluated
    std::vector<std::string> sources;
    for (const auto& f : s.js) sources.push_back(f.source);
    auto limits = opts_.script_limits;
    const js_engine& engine = javascript();
    engine.require_available("step " + path + " (" + s.js.front().field + " ${" + s.js.front().source.substr(0, 40) + "})");
    std::weak_ptr<runner> weak = weak_from_this();
    offload("step " + path, [weak, post = post_, engine = opts_.js, sources, ctx = context(r, sc), limits, run = r.rec.id, path,
                             then = std::move(then)](const std::atomic<bool>& cancel) {
        auto out = engine->evaluate(sources, ctx, limits, &cancel);
        post([weak, run, path, out = std::move(out), then] {
            auto self = weak.lock();
            if (!self) return;
            self->js_evaluated(run, path, out);
            if (then) then();
        });
    });
    return false;
}

void runner::js_evaluated(const std::string& run_id, const std::string& path, std::vector<js_outcome> out) {
    auto* r = find_live(run_id);
    if (!r) return;
    r->js_pending.erase(path);
    const auto* def = def_of(*r, path);
    if (!def || core::is_terminal(r->rec.state)) return;
    core::json values = core::json::object();
    for (std::size_t i = 0; i < out.size() && i < def->js.size(); ++i) {
        const auto& f = def->js[i];
        if (out[i].ok) {
            values[f.key] = out[i].value;
            continue;
        }
        std::string error = "step " + path + " " + f.field + " ${" + f.source.substr(0, 60) + (f.source.size() > 60 ? "…" : "") +
                            "} (JavaScript";
        if (!r->wf->source_file.empty() && f.line > 0) error += ", " + r->wf->source_file + ":" + std::to_string(f.line);
        error += "): " + out[i].error;
        if (!r->rec.find(path)) {
            store::write_batch b;
            record(*r, core::run_event::step_started, {{"path", path}, {"id", def->id}, {"type", core::to_string(def->type)}, {"attempt", 1}}, b);
            flush(*r, std::move(b));
        }
        return settle(*r, path, core::step_state::failed, nullptr, error);
    }
    r->js_values[path] = std::move(values);
}

void runner::start_script(live_run& r, const step_def& s, const std::string& path, const scope& sc, int attempt,
                          store::write_batch& batch) {
    const auto& code = std::get<core::script_step>(s.config);
    const js_engine& engine = javascript();
    engine.require_available("script step " + path);
    auto limits = opts_.script_limits;
    if (s.timeout_ms > 0) limits.timeout_ms = std::min(limits.timeout_ms, s.timeout_ms);
    std::weak_ptr<runner> weak = weak_from_this();
    offload("script step " + path, [weak, post = post_, engine = opts_.js, code = code.code, ctx = context(r, sc), limits,
                                    run = r.rec.id, path, attempt](const std::atomic<bool>& cancel) {
        js_outcome out;
        try {
            out = engine->run_script(code, ctx, limits, &cancel);
        } catch (const std::exception& e) {
            out.error = e.what();
        }
        post([weak, run, path, attempt, out = std::move(out)] {
            if (auto self = weak.lock()) self->script_done(run, path, attempt, out);
        });
    });
    record(r, core::run_event::step_started, [&] {
        auto d = step_base(s, path);
        d["attempt"] = attempt;
        return d;
    }(), batch);
}

void runner::script_done(const std::string& run_id, const std::string& path, int attempt, js_outcome out) {
    auto* r = find_live(run_id);
    const auto* rec = r ? r->rec.find(path) : nullptr;
    if (!rec || rec->state != core::step_state::running || rec->attempts != attempt) return;
    for (const auto& line : out.logs)
        feed(*r, {{"type", "step.log"}, {"time", core::format_time(core::now_ms())}, {"step", path}, {"attempt", attempt},
                  {"stream", "stdout"}, {"data", line}});
    const auto* def = def_of(*r, path);
    if (out.ok) settle(*r, path, core::step_state::succeeded, std::move(out.value), "");
    else settle(*r, path, core::step_state::failed, nullptr, "step " + path + ": " + (def ? script_error(*r->wf, *def, out) : out.error));
    advance(*r);
}

}  // namespace orbitmesh::engine
