#pragma once
#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/time_zone.hpp"

namespace orbitmesh::core {

/// A parsed cron expression (SPEC §4 schedule triggers): 5 fields `minute hour day-of-month month
/// day-of-week`, or 6 with `second` first. Each field takes `*`, numbers, names (JAN…DEC, SUN…SAT,
/// 7 = Sunday), ranges `a-b`, steps `*/n` `a-b/n` `a/n`, lists `a,b`; `?` means `*` in the day
/// fields; macros @yearly @annually @monthly @weekly @daily @midnight @hourly. When both day fields
/// are restricted a day matches either (Vixie cron). Plain data: copy freely.
struct cron_expr {
    std::bitset<60> seconds, minutes;
    std::bitset<24> hours;
    std::bitset<32> days;     // 1..31
    std::bitset<13> months;   // 1..12
    std::bitset<7> weekdays;  // 0 = Sunday
    bool days_any = true, weekdays_any = true, hours_any = true;
    bool has_seconds = false;
    std::string text;

    /// Whether a local calendar day matches the day-of-month, month and day-of-week fields.
    bool day_matches(int year, unsigned month, unsigned day) const noexcept;
};

/// Parses `text`; throws core::error{invalid_input} naming the field and what is wrong with it.
cron_expr parse_cron(std::string_view text);

/// The first fire time strictly after `after_s` (UTC seconds), wall times read in `zone`.
/// A wall time that a DST gap skips fires once, at the end of the gap; a wall time that an overlap
/// repeats fires once (its first pass), unless the hour field is `*`, where both passes fire (they
/// are different hours of real time). nullopt when nothing matches within 50 years (`0 0 30 2 *`).
std::optional<std::int64_t> next_fire(const cron_expr& cron, const time_zone& zone, std::int64_t after_s);

}  // namespace orbitmesh::core
