#pragma once
#include <cstdint>
#include <random>

namespace orbitmesh::engine::agent {

/// Decorrelated jitter ("Exponential Backoff and Jitter", AWS): each delay is
/// min(max, random_between(min, previous * 3)), starting from min. Spreads a fleet's reconnects
/// after a hub restart instead of having them arrive in waves. Not thread-safe.
class reconnect_backoff {
public:
    reconnect_backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed = std::random_device{}());

    /// The next delay in ms, always within [min, max].
    std::int64_t next();
    /// Back to the start after a successful connection.
    void reset() { prev_ = min_; }

private:
    std::int64_t min_;
    std::int64_t max_;
    std::int64_t prev_;
    std::mt19937_64 rng_;
};

}  // namespace orbitmesh::engine::agent
