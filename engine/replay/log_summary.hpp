#pragma once
#include <cstdint>
#include <filesystem>

#include "core/json.hpp"

namespace orbitmesh::engine::replay {

/// What the log holds up to `until` (0: all of it): streams and events by kind with the times
/// they span, jobs and runs by state, agents by state, refused events, stored snapshots.
core::json log_summary(const std::filesystem::path& file, std::int64_t until);

}  // namespace orbitmesh::engine::replay
