#pragma once
#include <string>

#include "core/log.hpp"

namespace orbitmesh::engine {

/// One event from the hub on stderr (`orbitmesh serve: LINE`, or a JSON object with
/// `--log-format json`); stdout stays for results. A line starting "error: " is logged at error
/// level. Thread-safe: one write(2) per line, so lines from two threads never interleave.
void hub_log(const std::string& line);
/// The same with a level and the event's ids as fields (`job_id`, `agent_id`, `run_id`).
void hub_log(core::log::level l, const std::string& line, core::log::fields f);

}  // namespace orbitmesh::engine
