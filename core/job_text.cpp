#include "core/job_text.hpp"

#include "core/clock.hpp"
#include "core/json_text.hpp"

namespace orbitmesh::core {

namespace {

// Keys in the order nlohmann's std::map-backed objects print them (sorted), so the text is
// byte for byte what to_json(r).dump() gives; tests/core/job_text_test.cpp checks it.
void write_spec_target(json_text& w, const job_target& t) {
    w.begin_object().key("agent").str(t.agent).key("capabilities").begin_array();
    for (const auto& c : t.capabilities) w.str(c);
    w.end_array().key("tags").begin_object();
    for (const auto& [k, v] : t.tags) w.key(k).str(v);
    w.end_object().end_object();
}

}  // namespace

std::string to_json_text(const job_record& r) {
    std::string out;
    out.reserve(768);
    json_text w(out);
    const auto& s = r.spec;
    w.begin_object();
    w.key("agent");
    if (r.agent_id.empty()) {
        w.null();
    } else {
        w.begin_object().key("id").str(r.agent_id).key("name").str(r.agent_name).end_object();
    }
    w.key("attempt").num(r.attempt);
    w.key("cancel_requested").boolean(r.cancel_requested);
    w.key("command").str(s.command);
    w.key("created_at").time(r.created_ms);
    w.key("error").str(r.error);
    w.key("exit_code");
    if (r.exit_code) {
        w.num(*r.exit_code);
    } else {
        w.null();
    }
    w.key("finished_at").time(r.finished_ms);
    w.key("id").str(r.id);
    w.key("idempotency_key").str(s.idempotency_key);
    if (!s.limits.empty()) w.key("limits").value(to_json(s.limits));
    w.key("mode").str(to_string(s.mode));
    w.key("on_agent_lost").str(to_string(s.on_agent_lost));
    w.key("output").value(r.output);
    w.key("payload").value(s.payload);
    if (s.pending_timeout_ms > 0) w.key("pending_timeout_ms").num(s.pending_timeout_ms);
    w.key("priority").num(s.priority);
    w.key("progress");
    if (r.progress_percent < 0) {
        w.null();
    } else {
        w.begin_object().key("message").str(r.progress_message).key("percent").value(json(r.progress_percent)).end_object();
    }
    w.key("reassigns").num(r.reassigns);
    w.key("retries")
        .begin_object()
        .key("backoff_ms")
        .num(s.retries.backoff_ms)
        .key("max")
        .num(s.retries.max)
        .key("max_delay_ms")
        .num(s.retries.max_delay_ms)
        .end_object();
    w.key("retries_used").num(r.retries_used);
    if (!s.secrets.empty()) {
        w.key("secrets").begin_array();
        for (const auto& name : s.secrets) w.str(name);
        w.end_array();
    }
    w.key("started_at").time(r.started_ms);
    w.key("state").str(to_string(r.state));
    w.key("target");
    write_spec_target(w, s.target);
    w.key("timeout_ms").num(s.timeout_ms);
    w.key("times")
        .begin_object()
        .key("assigned")
        .num(r.assigned_ms)
        .key("created")
        .num(r.created_ms)
        .key("finished")
        .num(r.finished_ms)
        .key("not_before")
        .num(r.not_before_ms)
        .key("started")
        .num(r.started_ms)
        .key("updated")
        .num(r.updated_ms)
        .end_object();
    if (!s.trace.empty()) w.key("trace").str(s.trace);
    w.key("updated_at").time(r.updated_ms);
    w.key("version").num(r.version);
    w.end_object();
    return out;
}

}  // namespace orbitmesh::core
