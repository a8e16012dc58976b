#pragma once
#include <cstdint>
#include <string>

namespace orbitmesh::core {

/// Wall-clock milliseconds since the Unix epoch; what events and records carry.
std::int64_t now_ms() noexcept;
/// Monotonic milliseconds; for deadlines and durations.
std::int64_t steady_ms() noexcept;
/// ISO-8601 UTC text of a wall-clock time in ms ("2026-11-27T15:07:08.123Z").
std::string format_time(std::int64_t ms);

}  // namespace orbitmesh::core
