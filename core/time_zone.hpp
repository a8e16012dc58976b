#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace orbitmesh::core {

/// A time zone as the system tz database describes it (TZif files under /usr/share/zoneinfo):
/// UTC offsets and the instants where they change, extended by the file's POSIX rule to the year
/// 2200 so that lookups are a binary search. GCC 12's libstdc++ has no `std::chrono` zones, hence
/// this reader. Immutable once built; safe to share between threads. Seconds throughout.
class time_zone {
public:
    /// UTC itself (no transitions).
    static time_zone utc();
    /// Reads `name` ("Europe/Berlin", "UTC") from the tz database (ORBITMESH_ZONEINFO or
    /// /usr/share/zoneinfo). Throws core::error{invalid_input} naming the zone when the name is
    /// malformed ("..", absolute), unknown, or the file is not TZif.
    static time_zone load(std::string_view name);
    /// Builds a zone from the bytes of a TZif file (v1, v2 or v3); throws core::error{invalid_input}.
    static time_zone from_tzif(std::string_view bytes, std::string name);
    /// Builds a zone from a POSIX TZ rule ("CET-1CEST,M3.5.0,M10.5.0/3"); throws on a bad rule.
    static time_zone from_posix(std::string_view rule, std::string name);

    const std::string& name() const noexcept { return name_; }
    /// Seconds to add to UTC to get local wall time at instant `utc_s`.
    int offset_at(std::int64_t utc_s) const noexcept;
    /// The first instant after `utc_s` where the offset changes, if any (within the table).
    std::optional<std::int64_t> next_transition(std::int64_t utc_s) const noexcept;
    /// Local wall time (seconds since 1970-01-01T00:00 local) of an instant.
    std::int64_t to_local(std::int64_t utc_s) const noexcept { return utc_s + offset_at(utc_s); }
    /// Every instant whose wall time is `local_s`, earliest first: one normally, two in an
    /// overlap (clocks set back), none in a gap (clocks set forward).
    std::vector<std::int64_t> from_local(std::int64_t local_s) const;

private:
    std::string name_;
    int initial_offset_ = 0;
    std::vector<std::int64_t> at_;  // transition instants, ascending
    std::vector<int> offset_;       // offset in force from at_[i]
};

/// Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms).
std::int64_t days_from_civil(int y, unsigned m, unsigned d) noexcept;
struct civil_date {
    int year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
};
civil_date civil_from_days(std::int64_t days) noexcept;
/// 0 = Sunday … 6 = Saturday.
unsigned weekday_from_days(std::int64_t days) noexcept;
unsigned days_in_month(int year, unsigned month) noexcept;

}  // namespace orbitmesh::core
