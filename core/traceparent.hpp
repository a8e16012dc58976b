#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace orbitmesh::core {

/// A W3C Trace Context `traceparent`: `00-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`.
struct traceparent {
    std::string trace_id;  // 32 lower-case hex digits, not all zero
    std::string span_id;   // 16 lower-case hex digits, not all zero
    std::string flags = "01";

    std::string text() const { return "00-" + trace_id + "-" + span_id + "-" + flags; }
};

/// Parses a header value; nullopt when it is not a valid version-00 traceparent (upper-case hex,
/// all-zero ids, version ff and stray characters are refused; a later version's extra fields are
/// ignored as the spec says).
std::optional<traceparent> parse_traceparent(std::string_view text);
/// A new trace with a random trace id and root span id, sampled.
traceparent new_trace();
/// The span id a job (or run) gets, derived from its id: stable across restarts and replays, so it
/// need not be stored.
std::string span_id_for(std::string_view id);
/// The context a job with id `job_id` runs in: the same trace as `parent`, the job's own span.
traceparent child_of(const traceparent& parent, std::string_view job_id);

/// The context of a workflow run, derived from its id (no state to keep): its step jobs are spans
/// under it, so a whole run is one trace.
traceparent run_trace(std::string_view run_id);
/// child_of() as text for a job whose recorded `trace` (its parent context) is `parent_text`;
/// empty when that is not a valid traceparent (a job recorded before traces were made).
std::string job_traceparent(std::string_view parent_text, std::string_view job_id);

}  // namespace orbitmesh::core
