#pragma once
#include <string_view>

#include "core/log.hpp"

namespace orbitmesh::engine::agent {

/// Writes one event to stderr (`orbitmesh agent: TEXT`, or JSON with `--log-format json`) at info
/// level. Thread-safe (one write per line).
void log_line(std::string_view text);
/// The same with a level and the event's ids as fields (`job_id`, `attempt`, ...).
void log_event(core::log::level l, std::string_view text, core::log::fields f);
/// Like log_line at debug level: shown with `-v` or `--log-level debug`.
void log_verbose(std::string_view text);
/// Turns debug logging on (`-v`) or back to the configured threshold.
void set_verbose(bool on);
bool verbose();

}  // namespace orbitmesh::engine::agent
