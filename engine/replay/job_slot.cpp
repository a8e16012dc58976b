#include "engine/replay/job_slot.hpp"

#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/job_fold.hpp"
#include "core/job_text.hpp"
#include "core/json_text.hpp"
#include "core/msgpack_view.hpp"
#include "engine/replay/msgpack_text.hpp"
#include "engine/replay/spec_reader.hpp"

namespace orbitmesh::engine::replay {

namespace {

using core::mp_value;

/// The fields of one job event's data, found in one pass over its map.
struct event_fields {
    std::optional<mp_value> attempt, state, not_before, counts, agent_id, agent_name, exit_code, output, error, reason,
        id, spec;
};

[[noreturn]] void refuse(const core::event_view& e, const std::string& why) {
    throw core::error(core::error_kind::conflict, "job " + std::string(e.stream.substr(4)) + ": event " +
                                                      std::string(e.type) + " " + why);
}

/// Reads the fields of an event in one walk; a spec is read into `spec` on the way.
event_fields read_fields(const core::event_view& e, spec_view& spec) {
    event_fields f;
    if (e.data.empty()) return f;
    const mp_value d(e.data);
    if (d.is_nil()) return f;
    if (!d.is_map()) refuse(e, "has data that is not a map");
    d.walk_entries([&f, &spec](std::string_view k, const mp_value& v) -> const std::uint8_t* {
        switch (k.size()) {
        case 2: if (k == "id") f.id = v; break;
        case 4:
            if (k == "spec") {
                spec = read_spec(v);
                f.spec = spec.end ? v.ending_at(spec.end) : v;
                return spec.end;
            }
            break;
        case 5: if (k == "state") f.state = v; else if (k == "error") f.error = v; break;
        case 6:
            if (k == "counts") f.counts = v;
            else if (k == "output") f.output = v;
            else if (k == "reason") f.reason = v;
            break;
        case 7: if (k == "attempt") f.attempt = v; break;
        case 8: if (k == "agent_id") f.agent_id = v; break;
        case 9: if (k == "exit_code") f.exit_code = v; break;
        case 10:
            if (k == "agent_name") f.agent_name = v;
            else if (k == "not_before") f.not_before = v;
            break;
        default: break;
        }
        return nullptr;
    });
    return f;
}

std::string_view text_of(const std::optional<mp_value>& v) { return v && v->is_string() ? v->as_string() : std::string_view{}; }

/// `inner` is a view inside `from`; the same bytes inside `copy` (an arena copy of `from`).
std::string_view rebase(std::string_view inner, std::span<const std::uint8_t> from, std::span<const std::uint8_t> copy) {
    if (inner.empty()) return {};
    const auto offset = reinterpret_cast<const std::uint8_t*>(inner.data()) - from.data();
    return {reinterpret_cast<const char*>(copy.data() + offset), inner.size()};
}

}  // namespace

void fold(job_slot& slot, const core::event_view& e, arena& mem) {
    const auto kind = core::parse_job_event_kind(e.type);
    if (!kind) refuse(e, "is not a job event");
    spec_view spec;
    const auto f = read_fields(e, spec);
    core::job_event_facts facts;
    facts.kind = *kind;
    std::optional<int> exit_code;
    try {
        if (f.attempt && f.attempt->is_number()) facts.attempt = static_cast<int>(f.attempt->as_int());
        if (*kind == core::job_event_kind::finished) facts.final_state = core::parse_job_state(text_of(f.state));
        if (f.not_before && f.not_before->is_number()) facts.not_before = f.not_before->as_int();
        if (f.counts && f.counts->type() == mp_value::kind::boolean) facts.counts = f.counts->as_bool();
        if (f.exit_code && f.exit_code->is_number()) exit_code = static_cast<int>(f.exit_code->as_double());
    } catch (const core::error& err) {
        refuse(e, std::string("has unreadable data: ") + err.what());
    }
    bool plain = false;
    std::optional<core::job_spec> parsed;  // only for a spec not in the hub's own shape
    if (*kind == core::job_event_kind::submitted && slot.version == 0) {
        if (text_of(f.id).empty()) refuse(e, "has no job id");
        if (!f.spec) refuse(e, "has no spec");
        plain = plain_spec(spec);
        if (!plain) parsed = core::job_spec_from_json(f.spec->to_json());  // valid as the hub reads it, or it throws
    }
    if (*kind == core::job_event_kind::assigned && text_of(f.agent_id).empty() && slot.state == core::job_state::pending &&
        slot.version != 0)
        refuse(e, "names no agent_id");
    const std::string_view id = slot.version == 0 ? e.stream.substr(4) : slot.id;
    const unsigned effects = core::fold_transition(slot, id, e.type, facts, e.version, e.time_ms);
    if (effects & core::effect_spec) {
        slot.id = mem.keep(text_of(f.id));
        const auto raw = f.spec->raw();
        slot.spec = mem.keep(raw);
        if (parsed) {
            slot.command = mem.keep(parsed->command);
            slot.idempotency_key = mem.keep(parsed->idempotency_key);
            slot.priority = parsed->priority;
        } else {
            slot.command = rebase(text_of(spec.command), raw, slot.spec);
            slot.idempotency_key = rebase(text_of(spec.idempotency_key), raw, slot.spec);
            slot.priority = static_cast<int>(spec.priority->as_int());
        }
        slot.plain_spec = plain;
        if (plain) slot.spec_fields = field_offsets(spec, raw);
        slot.first_seq = e.seq;
    }
    if (effects & core::effect_agent) {
        slot.agent_id = mem.keep_shared(text_of(f.agent_id));
        slot.agent_name = mem.keep_shared(text_of(f.agent_name));
    }
    if (effects & core::effect_outcome) {
        slot.exit_code = exit_code;
        slot.output = f.output && !f.output->is_nil() ? mem.keep(f.output->raw()) : std::span<const std::uint8_t>{};
        slot.error = mem.keep(text_of(f.error));
    }
    if (effects & core::effect_clear_agent) slot.agent_id = slot.agent_name = {};
    if (effects & core::effect_reason) slot.error = mem.keep(text_of(f.reason));
    if (effects & core::effect_clear_outcome) {
        slot.exit_code.reset();
        slot.output = {};
        slot.error = {};
    }
    slot.last_seq = e.seq;
}

core::job_record to_record(const job_slot& s) {
    core::job_record r;
    r.id = std::string(s.id);
    if (!s.spec.empty()) {
        try {
            r.spec = core::job_spec_from_json(mp_value(s.spec).to_json());
        } catch (const core::error& e) {
            throw core::error(core::error_kind::conflict, "job " + r.id + ": its spec does not read back: " + e.what());
        }
    }
    r.state = s.state;
    r.attempt = s.attempt;
    r.retries_used = s.retries_used;
    r.reassigns = s.reassigns;
    r.agent_id = std::string(s.agent_id);
    r.agent_name = std::string(s.agent_name);
    r.exit_code = s.exit_code;
    r.output = s.output.empty() ? core::json() : mp_value(s.output).to_json();
    r.error = std::string(s.error);
    r.created_ms = s.created_ms;
    r.updated_ms = s.updated_ms;
    r.assigned_ms = s.assigned_ms;
    r.started_ms = s.started_ms;
    r.finished_ms = s.finished_ms;
    r.not_before_ms = s.not_before_ms;
    r.cancel_requested = s.cancel_requested;
    r.version = s.version;
    return r;
}

namespace {

// Keys in the order core::to_json_text writes them (sorted, as json objects print).
bool write_plain(const job_slot& s, std::string& out) {
    const spec_view spec = view_at(s.spec, s.spec_fields);
    auto field = [](const std::optional<mp_value>& v) -> const mp_value& { return *v; };
    core::json_text w(out);
    w.begin_object();
    w.key("agent");
    if (s.agent_id.empty()) w.null();
    else w.begin_object().key("id").str(s.agent_id).key("name").str(s.agent_name).end_object();
    w.key("attempt").num(s.attempt);
    w.key("cancel_requested").boolean(s.cancel_requested);
    w.key("command").str(field(spec.command).as_string());
    w.key("created_at").time(s.created_ms);
    w.key("error").str(s.error);
    w.key("exit_code");
    if (s.exit_code) w.num(*s.exit_code);
    else w.null();
    w.key("finished_at").time(s.finished_ms);
    w.key("id").str(s.id);
    w.key("idempotency_key").str(field(spec.idempotency_key).as_string());
    w.key("mode").str(field(spec.mode).as_string());
    w.key("on_agent_lost").str(field(spec.on_agent_lost).as_string());
    w.key("output");
    if (s.output.empty()) w.null();
    else if (!write_json(w, mp_value(s.output))) return false;
    w.key("payload");
    if (!write_json(w, field(spec.payload))) return false;
    w.key("priority").num(field(spec.priority).as_int());
    w.key("progress").null();
    w.key("reassigns").num(s.reassigns);
    const auto retries = field(spec.retries);
    w.key("retries").begin_object();
    w.key("backoff_ms").num(retries.find("backoff_ms")->as_int());
    w.key("max").num(retries.find("max")->as_int());
    w.key("max_delay_ms").num(retries.find("max_delay_ms")->as_int());
    w.end_object();
    w.key("retries_used").num(s.retries_used);
    w.key("started_at").time(s.started_ms);
    w.key("state").str(core::to_string(s.state));
    w.key("target");
    if (!write_json(w, field(spec.target))) return false;
    w.key("timeout_ms").num(field(spec.timeout_ms).as_int());
    w.key("times").begin_object();
    w.key("assigned").num(s.assigned_ms).key("created").num(s.created_ms).key("finished").num(s.finished_ms);
    w.key("not_before").num(s.not_before_ms).key("started").num(s.started_ms).key("updated").num(s.updated_ms);
    w.end_object();
    if (spec.trace) w.key("trace").str(spec.trace->as_string());
    w.key("updated_at").time(s.updated_ms);
    w.key("version").num(s.version);
    w.end_object();
    return true;
}

}  // namespace

void record_text(const job_slot& slot, std::string& out) {
    out.clear();
    if (slot.plain_spec && write_plain(slot, out)) return;
    out = core::to_json_text(to_record(slot));
}

std::string record_text(const job_slot& slot) {
    std::string out;
    record_text(slot, out);
    return out;
}

}  // namespace orbitmesh::engine::replay
