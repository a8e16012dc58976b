// Job specs inside workflows: job steps and compensations (SPEC §4).
#include "engine/workflow/step_builder.hpp"

namespace orbitmesh::engine {

namespace {

void read_command(map_reader& r, core::job_action& a) {
    const source_node* run = r.get("run");
    const source_node* command = r.get("command");
    if (run != nullptr && command != nullptr) {
        r.sink().error(run->key_pos, r.owner() + " has both run and command",
                       "run: SCRIPT is short for command: shell with the script as payload; keep one");
    }
    if (run != nullptr && !run->is_null()) {
        if (!run->is_scalar()) {
            r.error(*run, "run", "must be a script (a string), not " + describe(*run));
            return;
        }
        check_value(*run, r.sink(), r.owner() + " run");
        a.command = "shell";
        a.payload = run->text;
        if (const source_node* p = r.get("payload"))
            r.sink().error(p->key_pos, r.owner() + " has both run and payload",
                           "run: gives the payload; for env or cwd write command: shell and payload: {script, env, cwd}");
        return;
    }
    if (!r.require("command", "command: HANDLER (e.g. shell, echo, system.info), or run: SCRIPT for a shell job")) return;
    a.command = r.text("command").value_or("");
    check_value(*command, r.sink(), r.owner() + " command");
    if (const source_node* p = r.get("payload")) {
        check_value(*p, r.sink(), r.owner() + " payload");
        a.payload = to_json(*p);
    }
}

// `where: {arch: arm64}` (or `reported.arch`): facts the agent's twin reports, which the hub keeps
// as `reported.*` tags (SPEC §7: targeting can use reported facts).
void read_where(map_reader& r, core::job_target& t) {
    const source_node* where = r.get("where");
    if (where == nullptr || where->is_null()) return;
    if (!where->is_mapping()) return r.error(*where, "where", "must be a map FACT: VALUE (e.g. arch: arm64), not " + describe(*where));
    for (const auto& c : where->children) {
        const std::string key = c.key.rfind("reported.", 0) == 0 ? c.key : "reported." + c.key;
        if (c.is_scalar()) t.tags[key] = c.text;
        else r.error(c, "where", in_quotes(c.key) + " must be a string, not " + describe(c));
    }
}

void read_tags(map_reader& r, core::job_target& t) {
    read_where(r, t);
    const source_node* tags = r.get("tags");
    if (tags == nullptr || tags->is_null()) return;
    if (tags->is_sequence()) {
        r.sink().warning(tags->key_pos, r.owner() + " tags is a list; reading it as required capabilities",
                         "tags of a step is a map KEY: VALUE the agent's tags must match; write capabilities: for names");
        for (const auto& item : tags->children)
            if (item.is_scalar()) t.capabilities.push_back(item.text);
        return;
    }
    if (!tags->is_mapping()) {
        r.error(*tags, "tags", "must be a map KEY: VALUE, not " + describe(*tags));
        return;
    }
    for (const auto& c : tags->children) {
        if (c.is_scalar()) t.tags[c.key] = c.text;
        else r.error(c, "tags", in_quotes(c.key) + " must be a string, not " + describe(c));
    }
}

void read_target(map_reader& r, core::job_action& a) {
    if (r.has("target") && r.has("pattern"))
        r.sink().error(r.node().find("pattern")->key_pos, r.owner() + " has both target and pattern",
                       "pattern is the original name of target; keep one");
    for (const char* key : {"target", "pattern"}) {
        if (auto t = r.text(key)) {
            check_value(*r.get(key), r.sink(), r.owner() + " " + key);
            a.target.agent = *t == "*" ? std::string() : *t;
        }
    }
    a.target.capabilities = r.text_list("capabilities");
    for (auto& c : r.text_list("required_tags")) a.target.capabilities.push_back(std::move(c));
    read_tags(r, a.target);
}

void read_limits(map_reader& r, core::job_action& a) {
    const source_node* n = r.get("limits");
    if (n == nullptr || n->is_null()) return;
    try {
        a.limits = core::job_limits_from_json(to_json(*n), r.owner() + " limits");
    } catch (const core::error& e) {
        r.sink().error(n->pos, e.what(), "limits: {cpu_seconds, memory_mb, output_bytes, files, pids, network}");
    }
}

}  // namespace

void read_job_action(map_reader& r, core::job_action& a) {
    read_command(r, a);
    read_target(r, a);
    read_limits(r, a);
    a.priority = static_cast<int>(r.integer("priority", -1'000'000, 1'000'000).value_or(0));
}

std::optional<core::job_action> read_compensation(const source_node& n, diagnostics_sink& sink, const std::string& owner) {
    core::job_action a;
    a.retry.max = 3;  // the original format's default: an undo should try hard
    if (n.is_scalar()) {
        check_value(n, sink, owner + " compensation");
        a.command = "shell";
        a.payload = n.text;
        return a;
    }
    if (!n.is_mapping()) {
        sink.error(n.pos, owner + " compensation must be a job spec {command, payload, …} or {run: SCRIPT}, not " + describe(n));
        return std::nullopt;
    }
    map_reader r(n, sink, owner + " compensation");
    read_job_action(r, a);
    a.timeout_ms = r.duration("timeout").value_or(0);
    read_retry(r, a.retry);
    r.finish({"command", "run", "payload", "target", "pattern", "capabilities", "tags", "where", "required_tags", "priority",
              "limits", "timeout", "retry", "max_retries", "retry_delay"});
    return a;
}

}  // namespace orbitmesh::engine
