// `triggers:` of a workflow (SPEC §4): manual, schedule, webhook, event.
#include <algorithm>
#include <cctype>

#include "core/cron.hpp"
#include "core/error.hpp"
#include "core/time_zone.hpp"
#include "core/workflow_suggest.hpp"
#include "engine/workflow/original_triggers.hpp"
#include "engine/workflow/workflow_builder.hpp"

namespace orbitmesh::engine {

namespace {

// The core's messages name the field themselves ("cron \"…\": …"); the sink adds the key again.
std::string without_prefix(std::string_view message, std::string_view prefix) {
    if (message.substr(0, prefix.size()) == prefix) message.remove_prefix(prefix.size());
    return std::string(message);
}

void read_cron(map_reader& r, core::workflow_trigger& t) {
    auto c = r.text("cron");
    if (!c) return;
    t.cron = *c;
    try {
        core::parse_cron(*c);
    } catch (const core::error& e) {
        r.error(*r.get("cron"), "cron", without_prefix(e.what(), "cron "));
    }
}

void read_timezone(map_reader& r, core::workflow_trigger& t) {
    if (r.has("timezone") && r.has("time_zone"))
        r.sink().error(r.node().find("time_zone")->key_pos, r.owner() + " has both timezone and time_zone", "keep one");
    const char* key = r.has("timezone") ? "timezone" : "time_zone";
    t.timezone = r.text(key).value_or("UTC");
    if (!r.has(key)) return;
    try {
        core::time_zone::load(t.timezone);
    } catch (const core::error& e) {
        r.error(*r.get(key), key, without_prefix(e.what(), "time zone "));
    }
}

void read_catch_up(map_reader& r, core::workflow_trigger& t) {
    const source_node* c = r.get("catch_up");
    if (c == nullptr || c->is_null()) return;
    auto policy = c->is_scalar() ? core::parse_catch_up(c->text) : std::nullopt;
    if (!policy) {
        r.error(*c, "catch_up", "must be none, latest or all, not " + describe(*c),
                "none skips fire times missed while the hub was down, latest fires the newest, all fires each");
        return;
    }
    t.catch_up = *policy;
    t.catch_up_limit = static_cast<int>(r.integer("catch_up_limit", 1, 10'000).value_or(100));
}

void read_schedule(map_reader& r, core::workflow_trigger& t) {
    if (r.has("cron") && r.has("interval"))
        r.sink().error(r.node().find("interval")->key_pos, r.owner() + " has both cron and interval", "keep one");
    if (!r.has("cron") && !r.has("interval")) r.require("cron", "cron: \"0 3 * * *\" or interval: 15m");
    read_cron(r, t);
    if (auto interval = r.duration("interval")) {
        if (*interval <= 0) r.error(*r.get("interval"), "interval", "must be longer than zero");
        t.interval_ms = *interval;
    }
    read_timezone(r, t);
    read_catch_up(r, t);
    t.max_concurrent = static_cast<int>(r.integer("max_concurrent", 1, 100'000).value_or(1));
}

// Keys a trigger of type `t` reads beyond id, name, type, enabled.
std::vector<std::string_view> trigger_keys(core::trigger_type t) {
    switch (t) {
    case core::trigger_type::manual: return {"input_schema"};
    case core::trigger_type::schedule: return {"cron", "interval", "timezone", "time_zone", "catch_up", "catch_up_limit", "max_concurrent"};
    case core::trigger_type::webhook: return {"secret", "input_mapping"};
    case core::trigger_type::event: return {"event_type", "filter", "input_mapping"};
    }
    return {};
}

std::optional<core::trigger_type> read_type(map_reader& r) {
    if (!r.require("type", "type: manual, schedule, webhook or event")) return std::nullopt;
    const std::string type = r.text("type").value_or("");
    if (auto t = core::parse_trigger_type(type)) return t;
    if (is_original_trigger(type)) return core::trigger_type::event;
    std::string hint = core::did_you_mean(type, {"manual", "schedule", "webhook", "event", "job_completion", "file_watch"});
    if (hint.empty()) hint = "use manual, schedule, webhook or event (or the original's job_completion, file_watch)";
    r.sink().error(r.node().find("type")->pos, r.owner() + " has unknown type " + in_quotes(type), hint);
    return std::nullopt;
}

std::optional<core::workflow_trigger> build_trigger(const source_node& n, std::size_t index, diagnostics_sink& sink,
                                                    std::vector<core::input_param>& inputs) {
    if (!n.is_mapping()) {
        sink.error(n.pos, "trigger #" + std::to_string(index + 1) + " must be a map, not " + describe(n), "write {type: manual}");
        return std::nullopt;
    }
    map_reader r(n, sink, "trigger #" + std::to_string(index + 1));
    core::workflow_trigger t;
    t.pos = n.pos;
    t.id = r.text("id").value_or("");
    if (!t.id.empty()) r.rename("trigger " + in_quotes(t.id));
    const auto type = read_type(r);
    t.name = r.text("name").value_or(t.id);
    t.enabled = r.boolean("enabled").value_or(true);
    if (!type) return std::nullopt;
    t.type = *type;
    if (t.id.empty()) t.id = std::string(core::to_string(t.type));
    switch (t.type) {
    case core::trigger_type::manual:
        if (const source_node* s = r.get("input_schema")) build_inputs(*s, sink, r.owner(), inputs);
        break;
    case core::trigger_type::schedule: read_schedule(r, t); break;
    case core::trigger_type::webhook:
        t.secret = r.text("secret").value_or("");
        read_input_mapping(r, t);
        break;
    case core::trigger_type::event:
        if (auto original = r.text("type"); original && is_original_trigger(*original)) {
            read_original_trigger(*original, r, t);
            r.finish(original_trigger_keys(*original));
            return t;
        }
        if (r.require("event_type", "event_type: the event that starts a run")) t.event_type = r.text("event_type").value_or("");
        if (const source_node* f = r.get("filter"); f != nullptr && !f->is_null()) {
            check_expression_field(*f, sink, r.owner() + " filter");
            if (f->is_scalar()) t.filter = f->text;
        }
        read_input_mapping(r, t);
        break;
    }
    std::vector<std::string_view> known = {"id", "name", "type", "enabled"};
    for (auto k : trigger_keys(t.type)) known.push_back(k);
    r.finish(known);
    return t;
}

}  // namespace

void read_input_mapping(map_reader& r, core::workflow_trigger& t) {
    const source_node* m = r.get("input_mapping");
    if (m == nullptr || m->is_null()) return;
    if (!m->is_mapping()) {
        r.error(*m, "input_mapping", "must be a map INPUT: EXPRESSION, not " + describe(*m));
        return;
    }
    map_reader duplicates_check(*m, r.sink(), r.owner() + " input_mapping");
    t.input_mapping = core::json::object();
    for (const auto& c : m->children) {
        check_expression_field(c, r.sink(), r.owner() + " input_mapping " + in_quotes(c.key));
        if (c.is_scalar()) t.input_mapping[c.key] = c.text;
    }
}

std::vector<core::workflow_trigger> build_triggers(const source_node& list, diagnostics_sink& sink,
                                                   std::vector<core::input_param>& inputs) {
    std::vector<core::workflow_trigger> out;
    if (!list.is_sequence()) {
        sink.error(list.pos, "triggers must be a list, not " + describe(list), "start each trigger with \"- type: …\"");
        return out;
    }
    for (std::size_t i = 0; i < list.children.size(); ++i) {
        auto t = build_trigger(list.children[i], i, sink, inputs);
        if (!t) continue;
        auto dup = std::find_if(out.begin(), out.end(), [&](const core::workflow_trigger& o) { return o.id == t->id; });
        if (dup != out.end())
            sink.error(t->pos, "trigger id " + in_quotes(t->id) + " is used twice (first at line " + std::to_string(dup->pos.line) + ")",
                       "give each trigger its own id; webhook URLs name it");
        out.push_back(std::move(*t));
    }
    return out;
}

}  // namespace orbitmesh::engine
