#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

namespace orbitmesh::core {

/// How the wait grows between retries: doubling, by the retry number, or not at all.
enum class backoff_kind { exponential, linear, fixed };
std::string_view to_string(backoff_kind b) noexcept;
std::optional<backoff_kind> parse_backoff_kind(std::string_view s) noexcept;

/// The one retry-delay rule, for jobs (`retries: {backoff, max_delay}`) and workflow steps and
/// compensations (`retry: {delay, backoff, max_delay}`): the wait before retry number `retry`
/// (1 = the first retry) is `first_ms` × 2^(retry-1) (exponential), × retry (linear) or × 1
/// (fixed), capped at `max_ms` (0 = no cap). Never negative, never overflows.
std::int64_t retry_delay_ms(backoff_kind kind, std::int64_t first_ms, std::int64_t max_ms, int retry) noexcept;

}  // namespace orbitmesh::core
