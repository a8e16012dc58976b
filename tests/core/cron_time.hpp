#pragma once
// UTC instants written as dates, for the cron and schedule tests.
#include <cstdint>

#include "core/time_zone.hpp"

inline std::int64_t utc_s(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return orbitmesh::core::days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
}
inline std::int64_t utc_ms(int y, unsigned mo, unsigned d, int h = 0, int mi = 0, int s = 0) {
    return utc_s(y, mo, d, h, mi, s) * 1000;
}
