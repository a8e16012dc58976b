#pragma once
#include <string>

namespace orbitmesh::engine {

/// One stderr line from the hub, `orbitmesh serve: LINE` (stdout stays for results). Thread-safe:
/// one write(2) per line, so lines from two threads never interleave.
void hub_log(const std::string& line);
/// Silences hub_log for the process (`run --local -q`: the in-process hub says nothing). Thread-safe.
void set_hub_log_quiet(bool quiet);

}  // namespace orbitmesh::engine
