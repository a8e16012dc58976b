// Deciding what happens next in a run: ready steps start, containers close, the run ends.
#include <algorithm>
#include <climits>

#include "core/error.hpp"
#include "core/run_events.hpp"
#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

namespace {

enum gate_result { wait_deps = 0, ready = 1, blocked = 2 };

bool is_container(std::string_view type) { return type == "parallel" || type == "conditional" || type == "foreach"; }

bool failed_for_good(const core::step_record& rec, const core::workflow_step& s) {
    auto st = rec.state;
    return !s.continue_on_error &&
           (st == core::step_state::failed || st == core::step_state::timed_out || st == core::step_state::cancelled);
}

std::string failure_text(const core::step_record& rec) {
    return "step " + rec.path + " " + std::string(core::to_string(rec.state)) + (rec.error.empty() ? "" : ": " + rec.error);
}

bool has_prefix(const core::run_record& r, const std::string& prefix) {
    auto it = r.steps.lower_bound(prefix);
    return it != r.steps.end() && it->first.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

void runner::advance(live_run& r) {
    if (recovering_) return;  // recovered() resumes every run once the hub's jobs are loaded
    if (r.advancing) {
        r.again = true;
        return;
    }
    r.advancing = true;
    int guard = 0;
    do {
        r.again = false;
        pass(r);
    } while (r.again && ++guard < 100'000);
    r.advancing = false;
}

void runner::pass(live_run& r) {
    if (r.rec.state != core::run_state::running) return;
    if (!r.rec.ending) {
        auto sum = walk(r, r.wf->steps, scope{"", {""}, core::json::object()}, 0, r.rec.paused);
        bool stop = r.wf->on_error.strategy == core::error_strategy::stop;
        if (sum.failed && (stop || sum.done)) {
            store::write_batch batch;
            begin_ending(r, core::run_state::failed, sum.error, false, batch);
            flush(r, std::move(batch));
        } else if (sum.done) {
            return finish_run(r, core::run_state::succeeded);
        }
        if (!r.rec.ending) return;
    }
    finish_containers(r);
    for (const auto& [path, s] : r.rec.steps)
        if ((s.state == core::step_state::running || s.state == core::step_state::waiting) && !is_container(s.type)) return;
    compensate_next(r);
}

int runner::gate(const live_run& r, const core::step_list& list, const scope& sc, const step_def& s) const {
    for (const auto& dep : s.depends_on) {
        const auto* d = r.rec.find(sc.prefix + dep);
        if (!d || !core::is_terminal(d->state)) return wait_deps;
        auto st = d->state;
        bool ok = st == core::step_state::succeeded || st == core::step_state::skipped ||
                  st == core::step_state::compensated;
        auto def = std::find_if(list.begin(), list.end(), [&](const step_def& x) { return x.id == dep; });
        if (!ok && !(def != list.end() && def->continue_on_error)) return blocked;
    }
    return ready;
}

runner::summary runner::walk(live_run& r, const core::step_list& list, const scope& sc, int max_active, bool stop_new) {
    summary sum;
    int active = 0;
    for (const auto& s : list)
        if (const auto* rec = r.rec.find(sc.prefix + s.id); rec && !core::is_terminal(rec->state) &&
                                                           rec->state != core::step_state::pending)
            ++active;
    for (const auto& s : list) {
        auto path = sc.prefix + s.id;
        const auto* rec = r.rec.find(path);
        if (!rec || rec->state == core::step_state::pending) {
            int g = gate(r, list, sc, s);
            if (g == blocked) {
                store::write_batch batch;
                record(r, core::run_event::step_finished,
                       {{"path", path}, {"id", s.id}, {"type", core::to_string(s.type)}, {"state", "cancelled"},
                        {"error", "not run: a step it depends on did not succeed"}},
                       batch);
                flush(r, std::move(batch));
            } else if (g == wait_deps || stop_new || (max_active > 0 && active >= max_active)) {
                sum.done = false;
                continue;
            } else {
                start_step(r, s, path, sc);
                ++active;
            }
            rec = r.rec.find(path);
            if (!rec) {
                sum.done = false;
                continue;
            }
        }
        if (core::is_terminal(rec->state)) {
            if (failed_for_good(*rec, s) && !sum.failed) {
                sum.failed = true;
                sum.error = failure_text(*rec);
            }
            continue;
        }
        sum.done = false;
        ++sum.active;
        if (rec->state == core::step_state::running && is_container(rec->type)) walk_container(r, s, sc);
    }
    return sum;
}

void runner::walk_container(live_run& r, const step_def& s, const scope& sc) {
    auto path = sc.prefix + s.id;
    const auto* rec = r.rec.find(path);
    bool halt = r.rec.paused || r.rec.ending.has_value();
    summary sum;
    core::json outputs = core::json::array();
    auto child = child_scope(sc, path + "/");
    if (const auto* p = std::get_if<core::parallel_step>(&s.config)) {
        sum = walk(r, p->branches, child, p->max_concurrency, halt);
        if (sum.failed && p->fail_fast && !sum.done) {
            // fail_fast: stop the other branches; they end cancelled and the parallel step fails.
            for (auto it = r.rec.steps.lower_bound(child.prefix); it != r.rec.steps.end() &&
                                                               it->first.compare(0, child.prefix.size(), child.prefix) == 0;
                 ++it)
                for (const auto& id : it->second.job_ids)
                    if (it->second.state == core::step_state::running) cancel_once(id, "fail_fast: a sibling branch failed");
        }
        for (const auto& b : p->branches) {
            const auto* br = r.rec.find(child.prefix + b.id);
            outputs.push_back(br ? br->output : core::json());
        }
    } else if (const auto* c = std::get_if<core::conditional_step>(&s.config)) {
        const auto& list = rec->detail.value("branch", std::string{}) == "then" ? c->then_steps : c->else_steps;
        sum = walk(r, list, child, 0, halt);
        const auto* last = list.empty() ? nullptr : r.rec.find(child.prefix + list.back().id);
        outputs = last ? last->output : core::json();
    } else {
        walk_foreach(r, s, path, sc, sum, outputs);
    }
    rec = r.rec.find(path);
    if (!sum.done || !rec || core::is_terminal(rec->state)) return;
    store::write_batch batch;
    record(r, core::run_event::step_finished,
           {{"path", path}, {"state", sum.failed ? "failed" : "succeeded"}, {"output", outputs}, {"error", sum.error},
            {"variable", sum.failed ? "" : s.output_variable}},
           batch);
    flush(r, std::move(batch));
}

void runner::walk_foreach(live_run& r, const step_def& s, const std::string& path, const scope& sc, summary& sum,
                          core::json& outputs) {
    const auto& fe = std::get<core::foreach_step>(s.config);
    const auto* rec = r.rec.find(path);
    auto items = rec->detail.value("items", core::json::array());
    int max = fe.max_concurrency > 0 ? fe.max_concurrency : INT_MAX;
    int busy = 0;
    bool halt = r.rec.paused || r.rec.ending.has_value();
    for (std::size_t i = 0; i < items.size(); ++i) {
        auto child = child_scope(sc, path + "[" + std::to_string(i) + "]/");
        child.locals["item"] = items[i];
        child.locals["index"] = i;
        child.locals[fe.item_variable] = items[i];
        child.locals[fe.index_variable] = i;
        bool started = has_prefix(r.rec, child.prefix);
        if (!started && (busy >= max || halt || sum.failed)) {
            sum.done = false;
            outputs.push_back(nullptr);
            continue;
        }
        auto one = walk(r, fe.steps, child, 0, halt);
        if (!one.done) {
            ++busy;
            sum.done = false;
        }
        if (one.failed && !sum.failed) {
            sum.failed = true;
            sum.error = "item " + std::to_string(i) + ": " + one.error;
        }
        const auto* last = fe.steps.empty() ? nullptr : r.rec.find(child.prefix + fe.steps.back().id);
        outputs.push_back(last ? last->output : core::json());
    }
    // A failed item stops new items; once the started ones end, the foreach is done (failed).
    if (sum.failed && busy == 0) sum.done = true;
}

void runner::finish_containers(live_run& r) {
    for (const auto& [path, s] : r.rec.steps)
        if ((s.state == core::step_state::running || s.state == core::step_state::waiting) && !is_container(s.type)) return;
    std::vector<std::string> open;
    for (const auto& [path, s] : r.rec.steps)
        if (s.state == core::step_state::running && is_container(s.type)) open.push_back(path);
    if (open.empty()) return;
    store::write_batch batch;
    auto why = std::string(core::to_string(*r.rec.ending));
    for (auto it = open.rbegin(); it != open.rend(); ++it)
        record(r, core::run_event::step_finished,
               {{"path", *it}, {"state", *r.rec.ending == core::run_state::failed ? "failed" : "cancelled"},
                {"error", "stopped: the run is " + why}},
               batch);
    flush(r, std::move(batch));
}

}  // namespace orbitmesh::engine
