// The one retry-delay rule shared by jobs, workflow steps and compensations.
#include <catch2/catch.hpp>

#include <limits>

#include "core/retry_delay.hpp"

using namespace orbitmesh::core;

TEST_CASE("retry delay: exponential doubles from the first delay and stops at the cap") {
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 1) == 1000);
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 2) == 2000);
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 4) == 8000);
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 7) == 60'000);
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 1'000'000) == 60'000);
}

TEST_CASE("retry delay: linear grows by the retry number, fixed not at all") {
    CHECK(retry_delay_ms(backoff_kind::linear, 500, 60'000, 1) == 500);
    CHECK(retry_delay_ms(backoff_kind::linear, 500, 60'000, 3) == 1500);
    CHECK(retry_delay_ms(backoff_kind::linear, 500, 1000, 3) == 1000);
    CHECK(retry_delay_ms(backoff_kind::fixed, 700, 60'000, 9) == 700);
}

TEST_CASE("retry delay: no cap means no cap, and nothing overflows or goes negative") {
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 0, 21) == 1000LL << 20);
    const auto huge = retry_delay_ms(backoff_kind::exponential, 1000, 0, std::numeric_limits<int>::max());
    CHECK(huge > 0);
    CHECK(retry_delay_ms(backoff_kind::linear, std::numeric_limits<std::int64_t>::max(), 0, 1000) > 0);
    CHECK(retry_delay_ms(backoff_kind::exponential, -5, 100, 3) == 0);
    CHECK(retry_delay_ms(backoff_kind::exponential, 1000, 60'000, 0) == 1000);  // retry numbers start at 1
}
