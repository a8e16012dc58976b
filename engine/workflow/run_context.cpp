// What expressions see (`inputs`, `vars`, `steps`, `run`, `item`, `index`) and where a step lives.
#include <set>

#include "engine/workflow/runner.hpp"

namespace orbitmesh::engine {

namespace {

/// `each[2]` -> {"each", 2}; `build` -> {"build", -1}.
std::pair<std::string, long> split_index(const std::string& seg) {
    auto open = seg.find('[');
    if (open == std::string::npos || seg.back() != ']') return {seg, -1};
    return {seg.substr(0, open), std::strtol(seg.c_str() + open + 1, nullptr, 10)};
}

void set_locals(core::json& locals, const core::workflow_step* def, const core::json& item, long index) {
    const auto* fe = def ? std::get_if<core::foreach_step>(&def->config) : nullptr;
    locals["item"] = item;
    locals["index"] = index;
    if (fe) {
        locals[fe->item_variable] = item;
        locals[fe->index_variable] = index;
    }
}

// The original's engine laid a run's inputs over its workflow variables as bare names
// (`${service_name}`, `${config.url}`); step outputs set later won over both.
void overlay_inputs(core::json& ctx, const core::json& inputs, const core::json& vars, const core::json& defaults) {
    static const std::set<std::string> ours = {"inputs", "input", "vars", "steps", "run", "item", "index", "context"};
    if (!inputs.is_object()) return;
    for (const auto& [k, v] : inputs.items()) {
        if (ours.count(k)) continue;
        const bool output = vars.contains(k) && !(defaults.is_object() && defaults.contains(k) && defaults[k] == vars[k]);
        if (!output) ctx[k] = v;
    }
}

}  // namespace

core::json runner::context(const live_run& r, const scope& sc) const {
    core::json steps = core::json::object();
    for (const auto& prefix : sc.prefixes) {
        for (auto it = r.rec.steps.lower_bound(prefix); it != r.rec.steps.end(); ++it) {
            const auto& path = it->first;
            if (path.compare(0, prefix.size(), prefix) != 0) break;
            auto rest = path.substr(prefix.size());
            if (rest.find('/') != std::string::npos) continue;
            steps[it->second.id] = {{"output", it->second.output}, {"status", core::to_string(it->second.state)}};
        }
    }
    core::json ctx{{"inputs", r.rec.inputs},
                   {"input", r.rec.inputs},
                   {"vars", r.rec.vars},
                   {"steps", std::move(steps)},
                   {"run", {{"id", r.rec.id}, {"workflow", r.rec.workflow_id}}},
                   {"item", nullptr},
                   {"index", nullptr}};
    for (const auto& [k, v] : r.rec.vars.items())
        if (!ctx.contains(k)) ctx[k] = v;  // bare variables (the original format's `${diskInfo.x}`)
    if (r.wf && !r.wf->original_dialect.empty()) overlay_inputs(ctx, r.rec.inputs, r.rec.vars, r.wf->variables);
    for (const auto& [k, v] : sc.locals.items()) ctx[k] = v;
    return ctx;
}

runner::scope runner::child_scope(const scope& sc, const std::string& prefix) {
    scope out = sc;
    out.prefix = prefix;
    out.prefixes.push_back(prefix);
    return out;
}

runner::scope runner::scope_of(const live_run& r, const std::string& path) const {
    scope sc;
    sc.prefixes.push_back("");
    std::size_t start = 0;
    for (auto slash = path.find('/'); slash != std::string::npos; slash = path.find('/', start)) {
        auto seg = path.substr(start, slash - start);
        auto [id, index] = split_index(seg);
        if (index >= 0) {
            const auto* container = r.rec.find(sc.prefix + id);
            core::json item;
            if (container && container->detail.contains("items") && index < static_cast<long>(container->detail["items"].size()))
                item = container->detail["items"][static_cast<std::size_t>(index)];
            set_locals(sc.locals, core::find_step(r.wf->steps, id), item, index);
        }
        sc.prefix = path.substr(0, slash + 1);
        sc.prefixes.push_back(sc.prefix);
        start = slash + 1;
    }
    return sc;
}

const core::workflow_step* runner::def_of(const live_run& r, const std::string& path) const {
    if (!r.wf) return nullptr;
    auto slash = path.rfind('/');
    auto last = slash == std::string::npos ? path : path.substr(slash + 1);
    return core::find_step(r.wf->steps, split_index(last).first);  // ids are unique in a workflow
}

}  // namespace orbitmesh::engine
