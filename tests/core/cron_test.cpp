// The cron parser and next fire times (SPEC §4 schedule triggers), in UTC and in two DST zones.
#include <catch2/catch.hpp>

#include "core/cron.hpp"
#include "core/error.hpp"
#include "cron_time.hpp"

using namespace orbitmesh::core;

namespace {

std::int64_t next(const char* cron, std::int64_t after, const time_zone& z = time_zone::utc()) {
    auto n = next_fire(parse_cron(cron), z, after);
    REQUIRE(n.has_value());
    return *n;
}

std::string parse_error(const char* cron) {
    try {
        parse_cron(cron);
    } catch (const error& e) {
        CHECK(e.kind() == error_kind::invalid_input);
        return e.what();
    }
    return "no error";
}

}  // namespace

TEST_CASE("cron: fields take numbers, names, ranges, steps and lists") {
    auto c = parse_cron("*/15 9-17 * JAN,jul MON-FRI");
    CHECK(c.minutes.count() == 4);
    CHECK(c.minutes.test(45));
    CHECK(c.hours.count() == 9);
    CHECK(c.months.test(1));
    CHECK(c.months.test(7));
    CHECK(c.months.count() == 2);
    CHECK(c.weekdays.count() == 5);
    CHECK_FALSE(c.weekdays.test(0));
    CHECK(parse_cron("0 0 * * 7").weekdays.test(0));  // 7 is Sunday too
    CHECK(parse_cron("0 0 * * 5-7").weekdays.count() == 3);
    CHECK(parse_cron("10/20 * * * *").minutes.count() == 3);  // 10, 30, 50
    CHECK(parse_cron("0 0 ? * *").days_any);
    CHECK_FALSE(parse_cron("0 0 1 * *").has_seconds);
    CHECK(parse_cron("5 0 0 * * *").has_seconds);
}

TEST_CASE("cron: macros stand for their five fields") {
    CHECK(next("@daily", utc_s(2026, 5, 4, 10)) == utc_s(2026, 5, 5));
    CHECK(next("@hourly", utc_s(2026, 5, 4, 10, 1)) == utc_s(2026, 5, 4, 11));
    CHECK(next("@weekly", utc_s(2026, 5, 4)) == utc_s(2026, 5, 10));  // the next Sunday
    CHECK(next("@yearly", utc_s(2026, 5, 4)) == utc_s(2027, 1, 1));
}

TEST_CASE("cron: a bad expression is refused with the field and the reason") {
    CHECK(parse_error("* * * *") == "cron \"* * * *\" has 4 fields (use 5: minute hour day-of-month month day-of-week, or 6 with seconds first)");
    CHECK(parse_error("61 * * * *") == "cron \"61 * * * *\": minute field has 61, outside 0-59");
    CHECK(parse_error("0 0 * FOO *").find("month field has \"FOO\", which is neither a number nor a name (JAN…DEC)") != std::string::npos);
    CHECK(parse_error("0 0 L * *").find("L, W and # are not supported") != std::string::npos);
    CHECK(parse_error("0 5-2 * * *").find("runs backwards") != std::string::npos);
    CHECK(parse_error("*/0 * * * *").find("outside 1-60") != std::string::npos);
    CHECK(parse_error("@sometimes").find("not a known macro") != std::string::npos);
    CHECK(parse_error("0 ? * * *").find("hour field") != std::string::npos);
}

TEST_CASE("cron: month ends skip the months that lack the day") {
    CHECK(next("0 0 31 * *", utc_s(2026, 1, 31)) == utc_s(2026, 3, 31));
    CHECK(next("0 0 31 * *", utc_s(2026, 3, 31)) == utc_s(2026, 5, 31));
    CHECK(next("0 0 30 * *", utc_s(2026, 1, 30, 12)) == utc_s(2026, 3, 30));
    CHECK(next("59 23 * * *", utc_s(2026, 12, 31, 23, 59)) == utc_s(2027, 1, 1, 23, 59));
    CHECK(next("0 12 1 * *", utc_s(2026, 12, 15)) == utc_s(2027, 1, 1, 12));
}

TEST_CASE("cron: a leap day fires only in leap years, and 2100 is not one") {
    CHECK(next("0 0 29 2 *", utc_s(2026, 1, 1)) == utc_s(2028, 2, 29));
    CHECK(next("0 0 29 2 *", utc_s(2028, 2, 29)) == utc_s(2032, 2, 29));
    CHECK(next("0 0 29 2 *", utc_s(2096, 3, 1)) == utc_s(2104, 2, 29));
    CHECK_FALSE(next_fire(parse_cron("0 0 30 2 *"), time_zone::utc(), utc_s(2026, 1, 1)).has_value());
}

TEST_CASE("cron: with both day fields restricted, either one matches") {
    // The 13th, or any Friday: 2026-11-06 is a Friday, the 13th is also one.
    CHECK(next("0 0 13 * 5", utc_s(2026, 11, 1)) == utc_s(2026, 11, 6));
    CHECK(next("0 0 13 * 1", utc_s(2026, 11, 10)) == utc_s(2026, 11, 13));
    // `*/2` in day-of-month counts as unrestricted (Vixie): both must then match.
    CHECK(next("0 0 */2 * 1", utc_s(2026, 11, 1)) == utc_s(2026, 11, 9));
}

TEST_CASE("cron: six fields fire on seconds") {
    CHECK(next("*/15 * * * * *", utc_s(2026, 6, 1, 12, 0, 7)) == utc_s(2026, 6, 1, 12, 0, 15));
    CHECK(next("*/15 * * * * *", utc_s(2026, 6, 1, 12, 0, 45)) == utc_s(2026, 6, 1, 12, 1, 0));
    CHECK(next("* * * * * *", utc_s(2026, 6, 1, 23, 59, 59)) == utc_s(2026, 6, 2));
    CHECK(next("30 0 12 * * *", utc_s(2026, 6, 1, 12, 0, 30)) == utc_s(2026, 6, 2, 12, 0, 30));
}

TEST_CASE("cron: Berlin's spring gap fires a skipped time once at the gap's end; hourly jobs just skip it") {
    auto berlin = time_zone::load("Europe/Berlin");
    // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    CHECK(next("30 2 * * *", utc_s(2026, 3, 28, 12), berlin) == utc_s(2026, 3, 29, 1));
    CHECK(next("30 2 * * *", utc_s(2026, 3, 29, 1), berlin) == utc_s(2026, 3, 30, 0, 30));
    CHECK(next("30 * * * *", utc_s(2026, 3, 29, 0, 45), berlin) == utc_s(2026, 3, 29, 1, 30));  // 03:30 CEST
    CHECK(next("0 9 * * *", utc_s(2026, 3, 29), berlin) == utc_s(2026, 3, 29, 7));             // summer: UTC+2
}

TEST_CASE("cron: Berlin's autumn overlap fires a fixed time once, an hourly one on both passes") {
    auto berlin = time_zone::load("Europe/Berlin");
    // 2026-10-25: 03:00 CEST goes back to 02:00 CET (01:00 UTC); 02:30 happens twice.
    CHECK(next("30 2 * * *", utc_s(2026, 10, 24, 12), berlin) == utc_s(2026, 10, 25, 0, 30));
    CHECK(next("30 2 * * *", utc_s(2026, 10, 25, 0, 30), berlin) == utc_s(2026, 10, 26, 1, 30));
    CHECK(next("30 * * * *", utc_s(2026, 10, 25, 0, 30), berlin) == utc_s(2026, 10, 25, 1, 30));
    CHECK(next("30 * * * *", utc_s(2026, 10, 25, 1, 30), berlin) == utc_s(2026, 10, 25, 2, 30));
}

TEST_CASE("cron: New York's gap and overlap follow the same rules") {
    auto ny = time_zone::load("America/New_York");
    // 2026-03-08: 02:00 EST → 03:00 EDT (07:00 UTC). 2026-11-01: 02:00 EDT → 01:00 EST (06:00 UTC).
    CHECK(next("30 2 * * *", utc_s(2026, 3, 7, 12), ny) == utc_s(2026, 3, 8, 7));
    CHECK(next("30 1 * * *", utc_s(2026, 10, 31, 12), ny) == utc_s(2026, 11, 1, 5, 30));
    CHECK(next("30 1 * * *", utc_s(2026, 11, 1, 5, 30), ny) == utc_s(2026, 11, 2, 6, 30));
    CHECK(next("*/30 * * * *", utc_s(2026, 11, 1, 5, 30), ny) == utc_s(2026, 11, 1, 6, 0));  // 01:00 EST, second pass
    CHECK(next("0 0 * * * *", utc_s(2026, 11, 1, 5, 59, 59), ny) == utc_s(2026, 11, 1, 6));   // six fields, same rule
}
