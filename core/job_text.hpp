#pragma once
#include <string>

#include "core/job.hpp"

namespace orbitmesh::core {

/// The job record as JSON text, equal to `to_json(r).dump()` (invalid UTF-8 replaced) but
/// written directly: the store writes one per ended job, and building the json tree first was
/// the writer thread's largest cost.
std::string to_json_text(const job_record& r);

}  // namespace orbitmesh::core
