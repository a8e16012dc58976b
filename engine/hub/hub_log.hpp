#pragma once
#include <string>

namespace orbitmesh::engine {

/// One stderr line from the hub, `orbitmesh serve: LINE` (stdout stays for results). Thread-safe:
/// one write(2) per line, so lines from two threads never interleave.
void hub_log(const std::string& line);

}  // namespace orbitmesh::engine
