// Checks across the whole model: ids, dependencies, cycles, references between steps.
#include <unordered_map>

#include "core/dag.hpp"
#include "core/expression_template.hpp"
#include "core/workflow_suggest.hpp"
#include "engine/workflow/build_context.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::engine {

namespace {

core::source_pos needs_pos(const core::workflow_step& s) {
    return {s.key_pos.count("needs") ? s.line_of("needs") : s.line_of("depends_on"), 0};
}

class model_checker {
public:
    model_checker(const core::workflow& wf, diagnostics_sink& sink) : wf_(wf), sink_(sink) {}

    void run() {
        core::for_each_step(wf_.steps, [this](const core::workflow_step& s) { index(s); });
        check_list(wf_.steps);
        core::for_each_step(wf_.steps, [this](const core::workflow_step& s) { check_references(s); });
    }

private:
    void index(const core::workflow_step& s) {
        if (s.id.empty()) return;
        auto [it, inserted] = by_id_.emplace(s.id, &s);
        if (inserted) {
            ids_.push_back(s.id);
            return;
        }
        sink_.error(s.pos, "step id " + in_quotes(s.id) + " is used twice (first at line " + std::to_string(it->second->pos.line) + ")",
                    "step ids must be unique in the whole workflow");
    }

    void check_list(const core::step_list& steps) {
        std::vector<core::dag_node> nodes;
        nodes.reserve(steps.size());
        for (const auto& s : steps) {
            core::dag_node n{s.id, {}};
            for (const auto& d : s.depends_on) n.needs.push_back(d);
            nodes.push_back(std::move(n));
        }
        for (const auto& p : core::check_dag(nodes).problems) report(steps, p);
        for (const auto& s : steps)
            for (const auto* list : core::child_lists(s)) check_list(*list);
    }

    void report(const core::step_list& steps, const core::dag_problem& p) {
        const core::workflow_step& s = steps[p.node];
        switch (p.type) {
        case core::dag_problem::kind::duplicate_id: return;  // reported once for the whole workflow
        case core::dag_problem::kind::self_dependency:
            sink_.error(needs_pos(s), "step " + in_quotes(s.id) + " depends on itself", "remove it from depends_on");
            return;
        case core::dag_problem::kind::unknown_dependency:
            if (by_id_.count(p.dependency)) {
                sink_.error(needs_pos(s), "step " + in_quotes(s.id) + " needs " + in_quotes(p.dependency) + ", which is in another step list",
                            "depends_on names steps of the same list; nested steps start after their parent's dependencies");
                return;
            }
            sink_.error(needs_pos(s), "step " + in_quotes(s.id) + " needs unknown step " + in_quotes(p.dependency),
                        p.suggestion.empty() ? "check the spelling; depends_on names step ids"
                                             : "did you mean " + in_quotes(p.suggestion) + "?");
            return;
        case core::dag_problem::kind::cycle:
            sink_.error(needs_pos(s), "dependency cycle: " + core::format_cycle(p.cycle),
                        "each step needs the next; remove one of these dependencies");
            return;
        }
    }

    void check_expression(const core::workflow_step& s, const std::string& what, const core::expression& e) {
        for (const auto& id : core::referenced_steps(e)) {
            if (by_id_.count(id)) continue;
            const std::string hint = core::did_you_mean(id, ids_);
            sink_.warning({s.line_of(what), 0}, "step " + in_quotes(s.id) + " " + what + " reads steps." + id + ", which is not a step",
                          hint.empty() ? "it will read null" : hint);
        }
    }

    void check_field(const core::workflow_step& s, const std::string& what, const std::string& text) {
        if (text.empty()) return;
        try {
            check_expression(s, what, core::parse_expression_field(text));
        } catch (const core::error&) {
            // Syntax errors were reported when the file was read.
        }
    }

    void check_templates(const core::workflow_step& s, const std::string& what, const core::json& v) {
        if (v.is_object() || v.is_array()) {
            for (const auto& c : v) check_templates(s, what, c);
            return;
        }
        if (!v.is_string() || !core::has_expressions(v.get_ref<const std::string&>())) return;
        try {
            for (const auto& part : core::split_template(v.get_ref<const std::string&>()))
                if (part.is_expression) check_expression(s, what, core::parse_expression(part.text));
        } catch (const core::error&) {
        }
    }

    void check_references(const core::workflow_step& s) {
        check_field(s, "condition", s.condition);
        if (const auto* job = s.job()) {
            check_templates(s, "payload", job->payload);
            check_templates(s, "target", job->target.agent);
        }
        if (const auto* c = std::get_if<core::conditional_step>(&s.config)) check_field(s, "expression", c->expression);
        if (const auto* t = std::get_if<core::transform_step>(&s.config)) check_field(s, "expression", t->expression);
        if (const auto* f = std::get_if<core::foreach_step>(&s.config)) {
            if (f->collection.is_string()) check_field(s, "collection", f->collection.get<std::string>());
            else check_templates(s, "collection", f->collection);
        }
        if (const auto* w = std::get_if<core::sub_workflow_step>(&s.config)) check_templates(s, "input", w->input);
        if (const auto* n = std::get_if<core::notify_step>(&s.config)) check_templates(s, "message", n->message);
        if (s.compensation) check_templates(s, "compensation", s.compensation->payload);
    }

    const core::workflow& wf_;
    diagnostics_sink& sink_;
    std::unordered_map<std::string_view, const core::workflow_step*> by_id_;
    std::vector<std::string_view> ids_;
};

}  // namespace

std::vector<core::diagnostic> validate(const core::workflow& wf) {
    diagnostics_sink sink(wf.source_file);
    model_checker(wf, sink).run();
    return std::move(sink.list());
}

}  // namespace orbitmesh::engine
