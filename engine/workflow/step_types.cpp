// The type-specific keys of each step type (SPEC §4 table).
#include <algorithm>

#include "engine/workflow/step_builder.hpp"

namespace orbitmesh::engine {

namespace {

struct type_keys {
    core::step_type type;
    std::vector<std::string_view> keys;
};

const std::vector<type_keys>& key_table() {
    static const std::vector<type_keys> table = {
        {core::step_type::job, {"command", "run", "payload", "args", "target", "pattern", "capabilities", "tags", "where", "required_tags", "priority", "fan_out", "limits", "pending_timeout"}},
        {core::step_type::parallel, {"branches", "max_concurrency", "fail_fast"}},
        {core::step_type::conditional, {"expression", "then", "else"}},
        {core::step_type::foreach, {"collection", "steps", "loop_steps", "item_variable", "index_variable", "max_concurrency"}},
        {core::step_type::delay, {"duration"}},
        {core::step_type::wait_for_event, {"event_type", "correlation_key"}},
        {core::step_type::approval, {"approvers", "required_approvals", "message", "timeout_action"}},
        {core::step_type::sub_workflow, {"workflow_id", "workflow_version", "input", "wait_for_completion"}},
        {core::step_type::transform, {"expression"}},
        {core::step_type::notify, {"channel", "target", "message", "title", "subject", "severity"}},
        {core::step_type::script, {"language", "script"}},
        {core::step_type::http, {"method", "url", "headers", "body", "expected_status"}},
    };
    return table;
}

core::step_list nested(map_reader& r, std::string_view key) {
    const source_node* n = r.get(key);
    if (n == nullptr || n->is_null()) return {};
    return build_steps(*n, r.sink(), r.owner() + " " + std::string(key));
}

void expression_key(map_reader& r, std::string_view key, std::string& out) {
    if (!r.require(key, std::string(key) + ": EXPRESSION (e.g. inputs.env == 'prod')")) return;
    const source_node* n = r.get(key);
    check_expression_field(*n, r.sink(), r.owner() + " " + std::string(key));
    if (n->is_scalar()) out = n->text;
}

std::string template_text(map_reader& r, std::string_view key) {
    const source_node* n = r.get(key);
    if (n == nullptr || n->is_null()) return {};
    check_value(*n, r.sink(), r.owner() + " " + std::string(key));
    return r.text(key).value_or("");
}

std::string variable_name(map_reader& r, std::string_view key, std::string fallback) {
    auto name = r.text(key);
    if (!name) return fallback;
    if (!is_plain_name(*name) || name->find('-') != std::string::npos)
        r.error(*r.get(key), key, in_quotes(*name) + " is not a plain name", "use letters, digits and _");
    return *name;
}

core::step_config read_job(map_reader& r, const core::workflow_step& s) {
    core::job_step j;
    read_job_action(r, j.action);
    merge_args(r, j.action);
    j.action.timeout_ms = s.timeout_ms;
    j.action.retry = s.retry;
    j.action.pending_timeout_ms = r.duration("pending_timeout").value_or(0);
    if (auto f = r.text("fan_out")) {
        if (*f == "all") j.action.fan_out_all = true;
        else r.error(*r.get("fan_out"), "fan_out", "is " + in_quotes(*f), "the only fan-out is fan_out: all");
    }
    return j;
}

core::step_config read_parallel(map_reader& r) {
    core::parallel_step p;
    if (r.require("branches", "branches: a list of steps to run at once")) {
        p.branches = nested(r, "branches");
        if (p.branches.empty() && r.get("branches")->is_sequence())
            r.error(*r.get("branches"), "branches", "is empty", "add at least one step");
    }
    p.max_concurrency = static_cast<int>(r.integer("max_concurrency", 0, 100'000).value_or(0));
    p.fail_fast = r.boolean("fail_fast").value_or(true);
    return p;
}

core::step_config read_conditional(map_reader& r) {
    core::conditional_step c;
    expression_key(r, "expression", c.expression);
    if (r.require("then", "then: the steps to run when the expression is true")) c.then_steps = nested(r, "then");
    c.else_steps = nested(r, "else");
    return c;
}

core::step_config read_foreach(map_reader& r) {
    core::foreach_step f;
    if (r.require("collection", "collection: a list, or an expression giving one (e.g. inputs.hosts)")) {
        const source_node* c = r.get("collection");
        if (c->is_sequence()) {
            check_value(*c, r.sink(), r.owner() + " collection");
            f.collection = to_json(*c);
        } else if (c->is_scalar()) {
            check_expression_field(*c, r.sink(), r.owner() + " collection");
            f.collection = c->text;
        } else {
            r.error(*c, "collection", "must be a list or an expression, not " + describe(*c));
        }
    }
    if (r.has("steps") && r.has("loop_steps"))
        r.sink().error(r.node().find("loop_steps")->key_pos, r.owner() + " has both steps and loop_steps",
                       "loop_steps is the original name of steps; keep one");
    if (!r.has("steps") && !r.has("loop_steps")) r.require("steps", "steps: the steps to run for each item");
    f.steps = nested(r, r.has("steps") ? "steps" : "loop_steps");
    f.item_variable = variable_name(r, "item_variable", "item");
    f.index_variable = variable_name(r, "index_variable", "index");
    f.max_concurrency = static_cast<int>(r.integer("max_concurrency", 0, 100'000).value_or(1));
    return f;
}

core::step_config read_approval(map_reader& r) {
    core::approval_step a;
    a.approvers = r.text_list("approvers");
    a.required_approvals = static_cast<int>(r.integer("required_approvals", 1, 1000).value_or(1));
    if (!a.approvers.empty() && static_cast<std::size_t>(a.required_approvals) > a.approvers.size())
        r.error(*r.get("required_approvals"), "required_approvals",
                "is " + std::to_string(a.required_approvals) + " but only " + std::to_string(a.approvers.size()) +
                    " approvers are listed",
                "lower it or add approvers");
    a.message = template_text(r, "message");
    if (auto t = r.text("timeout_action")) {
        if (*t == "fail") a.timeout_action = core::approval_timeout_action::fail;
        else if (*t == "approve" || *t == "auto_approve") a.timeout_action = core::approval_timeout_action::approve;
        else if (*t == "reject" || *t == "auto_reject") a.timeout_action = core::approval_timeout_action::reject;
        else r.error(*r.get("timeout_action"), "timeout_action", "is " + in_quotes(*t), "use fail, approve or reject");
    }
    return a;
}

core::step_config read_sub_workflow(map_reader& r) {
    core::sub_workflow_step w;
    if (r.require("workflow_id", "workflow_id: the id of the workflow to start")) w.workflow_id = r.text("workflow_id").value_or("");
    w.workflow_version = r.text("workflow_version").value_or("");
    if (const source_node* in = r.get("input"); in != nullptr && !in->is_null()) {
        if (in->is_mapping()) {
            check_value(*in, r.sink(), r.owner() + " input");
            w.input = to_json(*in);
        } else {
            r.error(*in, "input", "must be a map of input names to values, not " + describe(*in));
        }
    }
    w.wait_for_completion = r.boolean("wait_for_completion").value_or(true);
    return w;
}

}  // namespace

std::vector<std::string_view> step_type_keys(core::step_type t) {
    for (const auto& e : key_table())
        if (e.type == t) return e.keys;
    return {};
}

std::string key_of_other_type(std::string_view key) {
    std::string types;
    for (const auto& e : key_table()) {
        if (std::find(e.keys.begin(), e.keys.end(), key) == e.keys.end()) continue;
        if (!types.empty()) types += ", ";
        types += core::to_string(e.type);
    }
    return types.empty() ? std::string() : "it is read by " + types + " steps only";
}

core::step_config read_step_config(core::step_type t, map_reader& r, const core::workflow_step& s) {
    switch (t) {
    case core::step_type::job: return read_job(r, s);
    case core::step_type::parallel: return read_parallel(r);
    case core::step_type::conditional: return read_conditional(r);
    case core::step_type::foreach: return read_foreach(r);
    case core::step_type::delay: {
        r.require("duration", "duration: e.g. 30s, 5m or 1h");
        return core::delay_step{r.duration("duration").value_or(0)};
    }
    case core::step_type::wait_for_event: {
        core::wait_for_event_step w;
        if (r.require("event_type", "event_type: the type of event to wait for")) w.event_type = r.text("event_type").value_or("");
        w.correlation_key = template_text(r, "correlation_key");
        return w;
    }
    case core::step_type::approval: return read_approval(r);
    case core::step_type::sub_workflow: return read_sub_workflow(r);
    case core::step_type::transform: {
        core::transform_step x;
        expression_key(r, "expression", x.expression);
        return x;
    }
    case core::step_type::notify: return read_notify(r);
    case core::step_type::script: return read_script(r);
    case core::step_type::http: return read_http(r);
    }
    return core::job_step{};
}

}  // namespace orbitmesh::engine
