#pragma once
#include <string>

#include "core/json.hpp"

namespace orbitmesh::cli {

/// `replay` with no ID: what the log holds (`-o json|ndjson`: the summary object).
void print_log_summary(const core::json& summary, const std::string& format);
/// `replay ID`: the timeline, then the object's state at its end.
void print_timeline(const core::json& timeline, const std::string& format);
/// `replay --verify`: the differences (if any) and the summary line on stdout.
void print_verify(const core::json& report, const std::string& format);
/// The one-line summary of a verify report (also the error line when it found differences).
std::string verify_line(const core::json& report);

}  // namespace orbitmesh::cli
