#include "core/job_events.hpp"

#include <limits>

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "core/job_fold.hpp"

namespace orbitmesh::core {

namespace {

/// Everything a json job event carries, read with every field's type checked before the record
/// changes (the fold either applies a whole event or throws with the record untouched): a field
/// of the wrong type is core::error{invalid_input} naming it, never guessed at.
struct event_fields {
    job_event_facts facts;
    std::string id, agent_id, agent_name, reason;
    std::optional<int> exit_code;
    json output;
    std::string error;
};

void read_outcome(field_reader& d, event_fields& f) {
    if (auto code = d.get("exit_code"); code && code->is_number())  // older events may carry a float
        f.exit_code = static_cast<int>(d.number("exit_code", std::numeric_limits<int>::min(), field_reader::int_max));
    f.output = d.value("output");
    f.error = d.maybe_text("error").value_or(std::string{});
}

event_fields fields_of(const job_record& r, const event& e, job_event_kind kind) {
    event_fields f;
    f.facts.kind = kind;
    static const json no_data = json::object();
    field_reader d(e.data.is_null() ? no_data : e.data, e.type, error_kind::invalid_input);
    using k = job_event_kind;
    const bool assignable = r.state == job_state::pending && r.version != 0;
    // The attempt is read where the fence or the assignment uses it, as the record's own fold did.
    if (kind == k::assigned && assignable)
        f.facts.attempt = static_cast<int>(d.integer("attempt", 1, field_reader::int_max));
    else if (kind == k::started || kind == k::retry_scheduled || kind == k::requeued ||
             (kind == k::finished && r.state != job_state::pending))
        f.facts.attempt = static_cast<int>(d.maybe_integer("attempt", 0, field_reader::int_max).value_or(-1));
    switch (kind) {
    case k::submitted: f.id = d.text("id"); break;
    case k::assigned:
        if (assignable) {
            f.agent_id = d.text("agent_id");
            if (f.agent_id.empty()) throw error(error_kind::conflict, "job " + r.id + ": event " + e.type + " names no agent_id");
        }
        f.agent_name = d.maybe_text("agent_name").value_or(std::string{});
        break;
    case k::finished:
        f.facts.final_state = parse_job_state(d.maybe_text("state").value_or(std::string{}));
        read_outcome(d, f);
        break;
    case k::retry_scheduled:
        f.facts.not_before = d.maybe_integer("not_before", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
        read_outcome(d, f);
        break;
    case k::dead: read_outcome(d, f); break;
    case k::requeued:
        f.facts.counts = d.maybe_boolean("counts").value_or(true);
        f.reason = d.maybe_text("reason").value_or(std::string{});
        break;
    case k::started:
    case k::cancel_requested:
    case k::retried: break;
    }
    return f;
}

void back_to_pending(job_record& r) {
    r.agent_id.clear();
    r.agent_name.clear();
    r.progress_percent = -1;
    r.progress_message.clear();
}

/// Applies an event: its fields read and checked, then the transition table's verdict, then the
/// effects; `spec` is the parsed spec of a job.submitted.
void apply_with(job_record& r, const event& e, job_event_kind kind, job_spec* spec) {
    auto f = fields_of(r, e, kind);
    const unsigned effects = fold_transition(r, r.id.empty() ? f.id : r.id, e.type, f.facts, e.version, e.time_ms);
    if (effects & effect_spec) {
        r.id = std::move(f.id);
        r.spec = std::move(*spec);
    }
    if (effects & effect_agent) {
        r.agent_id = std::move(f.agent_id);
        r.agent_name = std::move(f.agent_name);
    }
    if (effects & effect_outcome) {
        r.exit_code = f.exit_code;
        r.output = std::move(f.output);
        r.error = std::move(f.error);
    }
    if (effects & effect_clear_agent) back_to_pending(r);
    if (effects & effect_reason) r.error = std::move(f.reason);
    if (effects & effect_clear_outcome) {
        r.exit_code.reset();
        r.output = json();
        r.error.clear();
    }
}

}  // namespace

std::string job_stream(std::string_view job_id) { return "job-" + std::string(job_id); }

void apply(job_record& r, const event& e) {
    const auto kind = parse_job_event_kind(e.type);
    if (!kind) throw error(error_kind::conflict, "job " + r.id + ": unknown event type " + e.type);
    if (*kind != job_event_kind::submitted) return apply_with(r, e, *kind, nullptr);
    if (r.version != 0) illegal_job_transition(r.id, e.type, r.state, "job already exists");
    field_reader d(e.data, e.type, error_kind::invalid_input);
    if (!d.get("spec")) d.object("spec");  // reports it as missing
    // Throws (and changes nothing) for a spec that is not valid, naming the field.
    job_spec spec = job_spec_from_json(*d.get("spec"), "job.submitted field \"spec\": job");
    apply_with(r, e, *kind, &spec);
}

void apply_submitted(job_record& r, const event& e, job_spec spec) {
    if (e.type != job_event::submitted) throw error(error_kind::conflict, "job " + r.id + ": " + e.type + " is not job.submitted");
    apply_with(r, e, job_event_kind::submitted, &spec);
}

event make_job_event(const job_record& r, std::string_view type, json data, std::int64_t time_ms) {
    return make_event(job_stream(r.id), r.version, type, std::move(data), time_ms);
}

}  // namespace orbitmesh::core
