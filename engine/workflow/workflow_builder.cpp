#include "engine/workflow/workflow_builder.hpp"

#include <algorithm>
#include <functional>

#include "core/workflow_inputs.hpp"
#include "core/workflow_suggest.hpp"
#include "engine/workflow/step_builder.hpp"

namespace orbitmesh::engine {

namespace {

const std::vector<std::string_view> top_level_keys = {
    "id", "name", "version", "description", "tags", "variables", "inputs", "timeout", "triggers", "steps",
    "error_handling", "concurrency", "enabled", "max_retries", "format",
};

core::input_param build_param(const source_node& n, std::string name, diagnostics_sink& sink, const std::string& owner) {
    core::input_param p;
    p.name = std::move(name);
    p.pos = n.key_pos.line > 0 ? n.key_pos : n.pos;
    if (n.is_scalar()) {  // NAME: TYPE
        if (auto t = core::canonical_input_type(n.text)) p.type = *t;
        else sink.error(n.pos, owner + " input " + in_quotes(p.name) + " has unknown type " + in_quotes(n.text),
                        "use string, integer, number, boolean, array, object or datetime");
        return p;
    }
    map_reader r(n, sink, owner + " input " + in_quotes(p.name));
    r.get("name");
    bool type_known = true;
    if (auto t = r.text("type")) {
        if (auto canonical = core::canonical_input_type(*t)) p.type = *canonical;
        else r.error(*r.get("type"), "type", "is " + in_quotes(*t), "use string, integer, number, boolean, array, object or datetime");
        type_known = core::canonical_input_type(*t).has_value();
    }
    p.description = r.text("description").value_or("");
    p.required = r.boolean("required").value_or(false);
    if (const source_node* d = r.get("default"); d != nullptr) p.default_value = to_json(*d);
    if (const source_node* a = r.get("allowed_values"); a != nullptr && !a->is_null()) {
        if (a->is_sequence()) for (const auto& v : a->children) p.allowed_values.push_back(to_json(v));
        else r.error(*a, "allowed_values", "must be a list, not " + describe(*a));
    }
    if (type_known && p.default_value && !p.default_value->is_null() && !core::input_value_matches(p.type, *p.default_value))
        r.error(*r.get("default"), "default", p.default_value->dump(-1, ' ', false, core::json::error_handler_t::replace) + " is not " + p.type);
    if (p.default_value && !p.allowed_values.empty() &&
        std::find(p.allowed_values.begin(), p.allowed_values.end(), *p.default_value) == p.allowed_values.end())
        r.error(*r.get("default"), "default", p.default_value->dump(-1, ' ', false, core::json::error_handler_t::replace) + " is not one of allowed_values");
    r.finish({"name", "type", "description", "required", "default", "allowed_values"});
    return p;
}

void build_error_handling(map_reader& top, core::error_handling& out) {
    const source_node* n = top.get("error_handling");
    if (n == nullptr || n->is_null()) return;
    if (!n->is_mapping()) {
        top.error(*n, "error_handling", "must be a map {strategy, compensate}, not " + describe(*n));
        return;
    }
    map_reader r(*n, top.sink(), "error_handling");
    if (auto s = r.text("strategy")) {
        if (*s == "stop" || *s == "stop_on_first_error" || *s == "compensate" || *s == "saga") out.strategy = core::error_strategy::stop;
        else if (*s == "continue" || *s == "continue_and_aggregate") out.strategy = core::error_strategy::continue_running;
        else r.error(*r.get("strategy"), "strategy", "is " + in_quotes(*s), "use stop or continue");
    }
    if (r.boolean("continue_on_error").value_or(false)) out.strategy = core::error_strategy::continue_running;
    out.compensate = r.boolean("compensate").value_or(true);
    if (const source_node* c = r.get("compensation_workflow_id"))
        r.sink().warning(c->key_pos, "error_handling compensation_workflow_id is not supported and is ignored",
                         "give the steps their own compensation:");
    r.finish({"strategy", "compensate", "continue_on_error", "compensation_workflow_id"});
}

void apply_default_retries(core::step_list& steps, int max) {
    for (auto& s : steps) {
        const bool own = s.key_pos.count("retry") || s.key_pos.count("max_retries");
        if (!own) {
            s.retry.max = max;
            if (auto* job = s.job()) job->retry.max = max;
        }
        if (auto* p = std::get_if<core::parallel_step>(&s.config)) apply_default_retries(p->branches, max);
        if (auto* c = std::get_if<core::conditional_step>(&s.config)) {
            apply_default_retries(c->then_steps, max);
            apply_default_retries(c->else_steps, max);
        }
        if (auto* f = std::get_if<core::foreach_step>(&s.config)) apply_default_retries(f->steps, max);
    }
}

void read_identity(map_reader& r, core::workflow& wf, std::string_view default_id) {
    wf.id = r.text("id").value_or(std::string(default_id));
    if (wf.id.empty() || wf.id.find_first_of(" \t\n/\\") != std::string::npos)
        r.sink().error(r.has("id") ? r.node().find("id")->pos : r.node().pos, "workflow id " + in_quotes(wf.id) + " is not usable",
                       "use letters, digits and - _ . : without spaces or slashes; it appears in URLs");
    wf.name = r.text("name").value_or(wf.id);
    wf.version = r.text("version").value_or("");
    wf.description = r.text("description").value_or("");
    wf.tags = r.text_list("tags");
    wf.enabled = r.boolean("enabled").value_or(true);
    r.get("format");  // read before the build: see detect_original_dialect
}

}  // namespace

void build_inputs(const source_node& n, diagnostics_sink& sink, const std::string& owner, std::vector<core::input_param>& out) {
    if (n.is_null()) return;
    if (!n.is_mapping() && !n.is_sequence()) {
        sink.error(n.pos, owner + " inputs must be a map of parameters, not " + describe(n), "write NAME: {type: string}");
        return;
    }
    for (const auto& c : n.children) {
        std::string name = c.key;
        if (n.is_sequence()) {
            const source_node* nm = c.find("name");
            if (nm == nullptr || !nm->is_scalar()) {
                sink.error(c.pos, owner + " input #" + std::to_string(&c - n.children.data() + 1) + " has no name", "add name: NAME");
                continue;
            }
            name = nm->text;
        }
        auto dup = std::find_if(out.begin(), out.end(), [&](const core::input_param& p) { return p.name == name; });
        core::input_param p = build_param(c, std::move(name), sink, owner);
        if (dup != out.end()) {
            sink.error(p.pos, "input " + in_quotes(p.name) + " is defined twice (first at line " + std::to_string(dup->pos.line) + ")",
                       "inputs: and a manual trigger's input_schema share one namespace");
            continue;
        }
        out.push_back(std::move(p));
    }
}

core::workflow build_workflow(const source_node& root, diagnostics_sink& sink, std::string_view default_id) {
    core::workflow wf;
    if (!root.is_mapping()) {
        sink.error(root.pos, "the top level must be a map with id, name and steps, not " + describe(root), "start with steps:");
        return wf;
    }
    map_reader r(root, sink, "workflow");
    read_identity(r, wf, default_id);
    if (const source_node* v = r.get("variables"); v != nullptr && !v->is_null()) {
        if (v->is_mapping()) {
            check_value(*v, sink, "variables");
            wf.variables = to_json(*v);
        } else {
            r.error(*v, "variables", "must be a map NAME: VALUE, not " + describe(*v));
        }
    }
    if (const source_node* in = r.get("inputs")) build_inputs(*in, sink, "workflow", wf.inputs);
    wf.timeout_ms = r.duration("timeout").value_or(0);
    wf.concurrency = static_cast<int>(r.integer("concurrency", 0, 1'000'000).value_or(0));
    if (const source_node* t = r.get("triggers"); t != nullptr && !t->is_null()) wf.triggers = build_triggers(*t, sink, wf.inputs);
    if (r.require("steps", "steps: a list of steps")) {
        const source_node& steps = *r.get("steps");
        wf.steps = build_steps(steps, sink, "workflow");
        if (steps.is_sequence() && steps.children.empty())
            sink.error(steps.key_pos, "workflow has no steps", "add at least one step under steps:");
    }
    build_error_handling(r, wf.on_error);
    if (auto m = r.integer("max_retries", 0, 1000)) apply_default_retries(wf.steps, static_cast<int>(*m));
    r.finish(top_level_keys);
    return wf;
}

}  // namespace orbitmesh::engine
