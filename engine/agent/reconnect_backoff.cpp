#include "engine/agent/reconnect_backoff.hpp"

#include <algorithm>

namespace orbitmesh::engine::agent {

reconnect_backoff::reconnect_backoff(std::int64_t min_ms, std::int64_t max_ms, std::uint64_t seed)
    : min_(std::max<std::int64_t>(1, min_ms)), max_(std::max(min_, max_ms)), prev_(min_), rng_(seed) {}

std::int64_t reconnect_backoff::next() {
    auto upper = std::max(min_, std::min(max_, prev_ * 3));
    std::uniform_int_distribution<std::int64_t> pick(min_, upper);
    prev_ = std::min(max_, pick(rng_));
    return prev_;
}

}  // namespace orbitmesh::engine::agent
