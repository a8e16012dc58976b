#include "engine/workflow/step_builder.hpp"

#include <cctype>

#include "core/expression_template.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::engine {

namespace {

const std::vector<std::string_view> common_keys = {
    "id", "name", "type", "description", "depends_on", "needs", "condition", "timeout", "retry", "max_retries",
    "retry_delay", "continue_on_error", "output_variable", "compensation", "on_agent_lost",
};

// id, name and type; false when the type is unknown (its keys cannot be checked then).
bool read_identity(map_reader& r, core::workflow_step& s) {
    if (r.require("id", "id: NAME (steps refer to each other by id)")) s.id = r.text("id").value_or("");
    if (!s.id.empty()) r.rename("step " + in_quotes(s.id));
    if (!s.id.empty() && !is_plain_name(s.id))
        r.sink().warning(r.node().find("id")->pos, "step id " + in_quotes(s.id) + " cannot be written as steps." + s.id,
                         "use letters, digits, _ and -; otherwise expressions must write steps['" + s.id + "']");
    s.name = r.text("name").value_or(s.id);
    const auto type_text = r.text("type");
    if (!type_text) return true;  // job, also for the `run:` shorthand
    if (auto t = core::parse_step_type(*type_text)) {
        s.type = *t;
        return true;
    }
    std::string hint = core::did_you_mean(*type_text, core::step_type_names());
    if (*type_text == "shell" || *type_text == "exec" || *type_text == "echo")
        hint = *type_text + " is a command, not a step type: write command: " + *type_text +
               (*type_text == "shell" ? ", or run: SCRIPT" : "");
    if (hint.empty()) hint = "use job, parallel, conditional, foreach, delay, wait_for_event, approval, sub_workflow, "
                             "transform, notify, script or http";
    r.sink().error(r.node().find("type")->pos, r.owner() + " has unknown type " + in_quotes(*type_text), hint);
    return false;
}

void read_dependencies(map_reader& r, core::workflow_step& s) {
    if (r.has("depends_on") && r.has("needs"))
        r.sink().error(r.node().find("needs")->key_pos, r.owner() + " has both depends_on and needs",
                       "they mean the same; keep one list");
    s.depends_on = r.text_list("depends_on");
    for (auto& d : r.text_list("needs")) s.depends_on.push_back(std::move(d));
}

// A timeout written with an expression (`"${{ inputs.n * 30 }}s"`, or the original's
// `"${plan.timeout * 2}s"`) is a template the runner evaluates when the step starts.
void read_timeout(map_reader& r, core::workflow_step& s) {
    const source_node* t = r.node().find("timeout");
    const bool computed = t != nullptr && t->is_scalar() &&
                          (t->text.find("${{") != std::string::npos ||
                           (r.sink().original_dialect() && t->text.find("${") != std::string::npos));
    if (!computed) {
        s.timeout_ms = r.duration("timeout").value_or(0);
        return;
    }
    r.get("timeout");
    check_value(*t, r.sink(), r.owner() + " timeout");
    s.timeout_template = t->text;
}

void read_common(map_reader& r, core::workflow_step& s) {
    read_dependencies(r, s);
    if (const source_node* c = r.get("condition"); c != nullptr && !c->is_null()) {
        check_expression_field(*c, r.sink(), r.owner() + " condition");
        if (c->is_scalar()) s.condition = c->text;
    }
    read_timeout(r, s);
    read_retry(r, s.retry);
    s.continue_on_error = r.boolean("continue_on_error").value_or(false);
    s.output_variable = r.text("output_variable").value_or("");
    if (!s.output_variable.empty() && !is_plain_name(s.output_variable))
        r.sink().error(r.node().find("output_variable")->pos,
                       r.owner() + " output_variable " + in_quotes(s.output_variable) + " is not a plain name",
                       "use letters, digits and _ so expressions can read it");
    if (const source_node* c = r.get("compensation"); c != nullptr && !c->is_null())
        s.compensation = read_compensation(*c, r.sink(), r.owner());
    if (auto p = r.text("on_agent_lost")) {
        if (auto policy = core::parse_agent_lost_policy(*p)) s.on_agent_lost = *policy;
        else r.error(*r.get("on_agent_lost"), "on_agent_lost", "is " + in_quotes(*p), "use reassign, wait or fail");
    }
    r.text("description");
}

core::workflow_step build_step(const source_node& n, diagnostics_sink& sink, const std::string& owner, std::size_t index) {
    core::workflow_step s;
    s.pos = n.pos;
    if (!n.is_mapping()) {
        sink.error(n.pos, "step #" + std::to_string(index + 1) + " of " + owner + " must be a map, not " + describe(n),
                   "write e.g. {id: build, run: make}");
        return s;
    }
    for (const auto& c : n.children) s.key_pos[c.key] = c.key_pos;
    map_reader r(n, sink, "step #" + std::to_string(index + 1) + " of " + owner);
    const bool known_type = read_identity(r, s);
    read_common(r, s);
    if (!known_type) return s;
    s.config = read_step_config(s.type, r, s);
    std::vector<std::string_view> known = common_keys;
    for (auto k : step_type_keys(s.type)) known.push_back(k);
    r.finish(known, &key_of_other_type);
    return s;
}

}  // namespace

bool is_plain_name(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') return false;
    return true;
}

core::step_list build_steps(const source_node& list, diagnostics_sink& sink, const std::string& owner) {
    core::step_list steps;
    if (!list.is_sequence()) {
        sink.error(list.pos.line > 0 ? list.pos : list.key_pos, owner + " must be a list of steps, not " + describe(list),
                   "start each step with \"- id: NAME\"");
        return steps;
    }
    steps.reserve(list.children.size());
    for (std::size_t i = 0; i < list.children.size(); ++i) steps.push_back(build_step(list.children[i], sink, owner, i));
    return steps;
}

bool read_retry(map_reader& r, core::step_retry& retry) {
    const source_node* n = r.get("retry");
    const bool legacy = r.has("max_retries") || r.has("retry_delay");
    if (n != nullptr && legacy)
        r.sink().error(n->key_pos, r.owner() + " has both retry and max_retries/retry_delay", "keep only retry: {max, delay}");
    if (auto m = r.integer("max_retries", 0, 1000)) retry.max = static_cast<int>(*m);
    if (auto d = r.duration("retry_delay")) retry.delay_ms = *d;
    if (n == nullptr || n->is_null()) return legacy;
    if (n->is_scalar()) {
        if (auto m = r.integer("retry", 0, 1000)) retry.max = static_cast<int>(*m);
        return true;
    }
    if (!n->is_mapping()) {
        r.error(*n, "retry", "must be a number or a map {max, delay, backoff, max_delay}, not " + describe(*n));
        return true;
    }
    map_reader rr(*n, r.sink(), r.owner() + " retry");
    if (auto m = rr.integer("max", 0, 1000)) retry.max = static_cast<int>(*m);
    if (auto d = rr.duration("delay")) retry.delay_ms = *d;
    if (auto d = rr.duration("max_delay")) retry.max_delay_ms = *d;
    if (auto b = rr.text("backoff")) {
        if (auto kind = core::parse_backoff_kind(*b)) retry.backoff = *kind;
        else rr.error(*rr.get("backoff"), "backoff", "is " + in_quotes(*b), "use exponential, linear or fixed");
    }
    rr.finish({"max", "delay", "backoff", "max_delay"});
    return true;
}

}  // namespace orbitmesh::engine
