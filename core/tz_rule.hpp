#pragma once
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace orbitmesh::core {

/// A POSIX TZ rule, the footer of a TZif file ("CET-1CEST,M3.5.0,M10.5.0/3"): what a zone does
/// after its last listed transition. Offsets are seconds east of UTC (POSIX writes them west).
struct tz_rule {
    struct date {
        char kind = 'M';  // 'M' month.week.day, 'J' Julian day 1..365 (no Feb 29), 'n' day 0..365
        int month = 0, week = 0, weekday = 0, day = 0;
        int time = 7200;  // seconds after local midnight (may be negative or past 24 h)
    };
    int std_offset = 0;
    bool has_dst = false;
    int dst_offset = 0;
    date start, end;  // DST starts at `start` (local standard time), ends at `end` (local DST time)

    /// The instants (UTC seconds) in `year` where the offset changes, with the new offset, ascending.
    std::vector<std::pair<std::int64_t, int>> transitions_in(int year) const;
};

/// Parses a POSIX TZ rule; nullopt when it is malformed.
std::optional<tz_rule> parse_tz_rule(std::string_view text);

}  // namespace orbitmesh::core
