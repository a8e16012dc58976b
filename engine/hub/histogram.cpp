#include "engine/hub/histogram.hpp"

namespace orbitmesh::engine {

void ms_histogram::add(std::int64_t ms) {
    if (ms < 0) ms = 0;
    ++count_;
    sum_ += ms;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        if (ms <= bounds[i]) {
            ++counts_[i];
            return;
        }
    }
    // above the last bound: only in +Inf, which is `count`
}

core::json ms_histogram::to_json() const {
    core::json buckets = core::json::array();
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < bounds.size(); ++i) {
        cumulative += counts_[i];
        buckets.push_back({bounds[i], cumulative});
    }
    return {{"buckets", std::move(buckets)}, {"sum", sum_}, {"count", count_}};
}

}  // namespace orbitmesh::engine
