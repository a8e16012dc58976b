#pragma once
#include <array>
#include <cstdint>

#include "core/json.hpp"

namespace orbitmesh::engine {

/// A Prometheus-style histogram of milliseconds with fixed buckets: cheap to update per job
/// (one comparison walk, no allocation), read by /api/v1/stats and /metrics.
class ms_histogram {
public:
    static constexpr std::array<std::int64_t, 14> bounds = {1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 60000};

    void add(std::int64_t ms);
    /// {"buckets": [[le, cumulative count], ...], "sum", "count"} in milliseconds.
    core::json to_json() const;

private:
    std::array<std::uint64_t, bounds.size()> counts_{};  // per bucket, not cumulative
    std::uint64_t count_ = 0;
    std::int64_t sum_ = 0;
};

}  // namespace orbitmesh::engine
