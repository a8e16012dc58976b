#pragma once
#include <string_view>

namespace orbitmesh::engine::agent {

/// Writes one line to stderr, prefixed `orbitmesh agent: `. Thread-safe (one write per line).
void log_line(std::string_view text);
/// Like log_line, only when verbose logging is on (`-v`).
void log_verbose(std::string_view text);
/// Silences log_line and log_verbose for the process (`run --local -q`).
void set_quiet(bool on);
/// Turns verbose logging on or off for the process.
void set_verbose(bool on);
bool verbose();

}  // namespace orbitmesh::engine::agent
