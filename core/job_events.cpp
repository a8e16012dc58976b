#include "core/job_events.hpp"

#include "core/clock.hpp"
#include "core/error.hpp"
#include "core/job_fold.hpp"

namespace orbitmesh::core {

namespace {

[[noreturn]] void malformed(const job_record& r, const event& e, const std::string& why) {
    throw error(error_kind::conflict, "job " + r.id + ": event " + e.type + " " + why);
}

/// The facts of a json event; a field of the wrong type is refused, not guessed at.
job_event_facts facts_of(const job_record& r, const event& e, job_event_kind kind) {
    job_event_facts f;
    f.kind = kind;
    const auto& d = e.data;
    if (!d.is_object() && !d.is_null()) malformed(r, e, "has data that is not an object");
    if (!d.is_object()) return f;
    try {
        if (auto it = d.find("attempt"); it != d.end() && it->is_number()) f.attempt = it->get<int>();
        if (kind == job_event_kind::finished) f.final_state = parse_job_state(d.value("state", std::string{}));
        if (auto it = d.find("not_before"); it != d.end() && it->is_number()) f.not_before = it->get<std::int64_t>();
        if (auto it = d.find("counts"); it != d.end() && it->is_boolean()) f.counts = it->get<bool>();
    } catch (const json::exception& err) {
        malformed(r, e, std::string("has a field of the wrong type: ") + err.what());
    }
    return f;
}

std::string text_field(const json& d, const char* key) {
    auto it = d.find(key);
    return it != d.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

void read_outcome(job_record& r, const json& d) {
    auto ec = d.find("exit_code");
    r.exit_code = (ec != d.end() && ec->is_number()) ? std::optional<int>(ec->get<int>()) : std::nullopt;
    auto out = d.find("output");
    r.output = out != d.end() ? *out : json();
    r.error = text_field(d, "error");
}

void back_to_pending(job_record& r) {
    r.agent_id.clear();
    r.agent_name.clear();
    r.progress_percent = -1;
    r.progress_message.clear();
}

/// Applies an event whose facts are known; `spec` is the parsed spec of a job.submitted.
void apply_with(job_record& r, const event& e, job_event_kind kind, job_spec* spec) {
    const auto f = facts_of(r, e, kind);
    static const json no_data = json::object();
    const json& d = e.data.is_object() ? e.data : no_data;
    std::string id;
    if (kind == job_event_kind::submitted) {
        id = text_field(d, "id");
        if (id.empty() && r.version == 0) malformed(r, e, "has no job id");
    }
    if (kind == job_event_kind::assigned && r.state == job_state::pending && text_field(d, "agent_id").empty())
        malformed(r, e, "names no agent_id");
    const unsigned effects = fold_transition(r, r.id.empty() ? id : r.id, e.type, f, e.version, e.time_ms);
    if (effects & effect_spec) {
        r.id = std::move(id);
        r.spec = std::move(*spec);
    }
    if (effects & effect_agent) {
        r.agent_id = text_field(d, "agent_id");
        r.agent_name = text_field(d, "agent_name");
    }
    if (effects & effect_outcome) read_outcome(r, d);
    if (effects & effect_clear_agent) back_to_pending(r);
    if (effects & effect_reason) r.error = text_field(d, "reason");
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
    auto it = e.data.is_object() ? e.data.find("spec") : e.data.end();
    if (!e.data.is_object() || it == e.data.end())
        throw error(error_kind::conflict, "job " + r.id + ": event " + e.type + " has no spec");
    job_spec spec = job_spec_from_json(*it);  // throws (and changes nothing) for a spec that is not valid
    apply_with(r, e, *kind, &spec);
}

void apply_submitted(job_record& r, const event& e, job_spec spec) {
    if (e.type != job_event::submitted) throw error(error_kind::conflict, "job " + r.id + ": " + e.type + " is not job.submitted");
    apply_with(r, e, job_event_kind::submitted, &spec);
}

event make_job_event(const job_record& r, std::string_view type, json data) {
    return make_event(job_stream(r.id), r.version, type, std::move(data));
}

}  // namespace orbitmesh::core
