// Time zones read from the system tz database (TZif) and POSIX rules.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/time_zone.hpp"
#include "cron_time.hpp"

using namespace orbitmesh::core;

TEST_CASE("time zone: Berlin's offsets follow summer time, also past the file's table") {
    auto z = time_zone::load("Europe/Berlin");
    CHECK(z.offset_at(utc_s(2026, 1, 15)) == 3600);
    CHECK(z.offset_at(utc_s(2026, 7, 15)) == 7200);
    CHECK(z.offset_at(utc_s(2026, 3, 29, 0, 59, 59)) == 3600);
    CHECK(z.offset_at(utc_s(2026, 3, 29, 1)) == 7200);
    CHECK(z.offset_at(utc_s(2150, 7, 1)) == 7200);  // from the footer's POSIX rule
    CHECK(z.offset_at(utc_s(2150, 12, 1)) == 3600);
    CHECK(z.next_transition(utc_s(2026, 1, 1)) == utc_s(2026, 3, 29, 1));
}

TEST_CASE("time zone: a wall time maps to one instant, two in an overlap, none in a gap") {
    auto z = time_zone::load("America/New_York");
    CHECK(z.from_local(utc_s(2026, 6, 1, 12)) == std::vector<std::int64_t>{utc_s(2026, 6, 1, 16)});
    CHECK(z.from_local(utc_s(2026, 3, 8, 2, 30)).empty());
    CHECK(z.from_local(utc_s(2026, 11, 1, 1, 30)) ==
          std::vector<std::int64_t>{utc_s(2026, 11, 1, 5, 30), utc_s(2026, 11, 1, 6, 30)});
    CHECK(z.to_local(utc_s(2026, 1, 1, 5)) == utc_s(2026, 1, 1));
}

TEST_CASE("time zone: POSIX rules, fixed zones and UTC") {
    auto us = time_zone::from_posix("EST5EDT,M3.2.0,M11.1.0", "test");
    CHECK(us.offset_at(utc_s(2030, 7, 1)) == -4 * 3600);
    CHECK(us.offset_at(utc_s(2030, 1, 1)) == -5 * 3600);
    auto tehran = time_zone::from_posix("<+0330>-3:30", "fixed");
    CHECK(tehran.offset_at(utc_s(2030, 7, 1)) == 3 * 3600 + 1800);
    CHECK(time_zone::load("UTC").offset_at(utc_s(2030, 7, 1)) == 0);
    CHECK(time_zone::load("Asia/Kolkata").offset_at(utc_s(2030, 7, 1)) == 5 * 3600 + 1800);
}

TEST_CASE("time zone: unknown names, traversal and non-TZif data are refused by name") {
    auto message = [](auto fn) {
        try {
            fn();
        } catch (const error& e) {
            return std::string(e.what());
        }
        return std::string("no error");
    };
    CHECK(message([] { time_zone::load("Mars/Olympus_Mons"); }).find("time zone \"Mars/Olympus_Mons\" is not in the tz database") == 0);
    CHECK(message([] { time_zone::load("../../etc/passwd"); }).find("is not a valid zone name") != std::string::npos);
    CHECK(message([] { time_zone::load("/etc/passwd"); }).find("is not a valid zone name") != std::string::npos);
    CHECK(message([] { time_zone::from_tzif("not a tz file at all, nope, nothing to see here......", "x"); })
              .find("is not a TZif file") != std::string::npos);
    CHECK(message([] { time_zone::from_posix("EST5EDT", "x"); }).find("does not parse") != std::string::npos);
}

TEST_CASE("time zone: civil dates round-trip and weekdays are right") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(weekday_from_days(days_from_civil(2026, 3, 29)) == 0);
    CHECK(weekday_from_days(days_from_civil(1969, 12, 31)) == 3);
    auto d = civil_from_days(days_from_civil(2000, 2, 29));
    CHECK((d.year == 2000 && d.month == 2 && d.day == 29));
    CHECK(days_in_month(1900, 2) == 28);
    CHECK(days_in_month(2000, 2) == 29);
}
