#pragma once
#include <string>
#include <vector>

#include "core/json.hpp"

namespace orbitmesh::cli {

/// The payload `job submit -- COMMAND ARGS…` sends (SPEC §1): the script for shell, the argv for
/// exec; for other handlers KEY=VALUE words make an object, plain words one string; none = null.
core::json payload_from_words(const std::string& command, const std::vector<std::string>& args);

/// Prints jobs as `job list` does, in the `-o` format.
void print_job_list(const core::json& jobs, const std::string& format);

}  // namespace orbitmesh::cli
