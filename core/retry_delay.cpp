#include "core/retry_delay.hpp"

#include <algorithm>
#include <limits>

namespace orbitmesh::core {

std::string_view to_string(backoff_kind b) noexcept {
    switch (b) {
    case backoff_kind::linear: return "linear";
    case backoff_kind::fixed: return "fixed";
    default: return "exponential";
    }
}

std::optional<backoff_kind> parse_backoff_kind(std::string_view s) noexcept {
    if (s == "exponential") return backoff_kind::exponential;
    if (s == "linear") return backoff_kind::linear;
    if (s == "fixed" || s == "constant") return backoff_kind::fixed;
    return std::nullopt;
}

std::int64_t retry_delay_ms(backoff_kind kind, std::int64_t first_ms, std::int64_t max_ms, int retry) noexcept {
    constexpr std::int64_t limit = std::numeric_limits<std::int64_t>::max() / 4;
    const std::int64_t cap = max_ms > 0 ? std::min(max_ms, limit) : limit;
    std::int64_t delay = std::clamp<std::int64_t>(first_ms, 0, cap);
    const int n = std::max(1, retry);
    if (kind == backoff_kind::linear) {
        delay = delay > cap / n ? cap : delay * n;
    } else if (kind == backoff_kind::exponential) {
        for (int i = 1; i < n && delay < cap; ++i) delay = delay > cap / 2 ? cap : delay * 2;
    }
    return std::min(delay, cap);
}

}  // namespace orbitmesh::core
