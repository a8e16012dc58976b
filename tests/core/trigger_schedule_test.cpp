// Schedules and catch_up (SPEC §4): which fire times a trigger owes after downtime, on a manual clock.
#include <catch2/catch.hpp>

#include "core/clock.hpp"
#include "core/trigger_schedule.hpp"
#include "cron_time.hpp"

using namespace orbitmesh::core;

namespace {
constexpr std::int64_t grace = 60'000;
}

TEST_CASE("schedule: an interval counts from its anchor, whatever time it is asked at") {
    auto s = trigger_schedule::make("", "UTC", 1000, 5'000);
    CHECK(s.next_after(0) == 6'000);
    CHECK(s.next_after(6'000) == 7'000);
    CHECK(s.next_after(6'999) == 7'000);
    CHECK(trigger_schedule::make("", "UTC", 0, 0).next_after(0) == std::nullopt);
}

TEST_CASE("schedule: cron fire times are whole seconds in the trigger's zone") {
    auto s = trigger_schedule::make("0 9 * * *", "Europe/Berlin", 0, 0);
    CHECK(s.next_after(utc_ms(2026, 1, 10, 7, 59, 59) + 999) == utc_ms(2026, 1, 10, 8));
    CHECK(s.next_after(utc_ms(2026, 1, 10, 8)) == utc_ms(2026, 1, 11, 8));
}

TEST_CASE("schedule: catch_up after a 3-hour outage: none skips, latest fires one, all fires each") {
    manual_clock clock;
    auto s = trigger_schedule::make("0 * * * *", "UTC", 0, 0);
    const auto last = s.next_after(clock.now_ms()).value();  // the hub fired this one, then died
    clock.advance(last - clock.now_ms() + 3 * 3600'000 + 30 * 60'000);  // back 3 h 30 min later
    const auto now = clock.now_ms();

    auto none = fires_due(s, last, now, catch_up_policy::none, 100, grace);
    CHECK(none.fire.empty());
    CHECK(none.skipped == 3);
    CHECK(none.skipped_until_ms == last + 3 * 3600'000);

    auto latest = fires_due(s, last, now, catch_up_policy::latest, 100, grace);
    CHECK(latest.fire == std::vector<std::int64_t>{last + 3 * 3600'000});
    CHECK(latest.skipped == 2);

    auto all = fires_due(s, last, now, catch_up_policy::all, 100, grace);
    CHECK(all.fire == std::vector<std::int64_t>{last + 3600'000, last + 2 * 3600'000, last + 3 * 3600'000});
    CHECK(all.skipped == 0);

    auto bounded = fires_due(s, last, now, catch_up_policy::all, 2, grace);
    CHECK(bounded.fire == std::vector<std::int64_t>{last + 2 * 3600'000, last + 3 * 3600'000});
    CHECK(bounded.skipped == 1);
    CHECK(bounded.skipped_until_ms == last + 3600'000);
}

TEST_CASE("schedule: a fire time that is just due fires even with catch_up none") {
    manual_clock clock;
    auto s = trigger_schedule::make("", "UTC", 1000, clock.now_ms());
    clock.advance(1'500);
    auto due = fires_due(s, s.anchor_ms, clock.now_ms(), catch_up_policy::none, 100, grace);
    CHECK(due.fire == std::vector<std::int64_t>{s.anchor_ms + 1000});
    CHECK(due.skipped == 0);
    CHECK(fires_due(s, s.anchor_ms + 1000, clock.now_ms(), catch_up_policy::none, 100, grace).fire.empty());
}

TEST_CASE("schedule: every second for 3 hours down stays bounded") {
    manual_clock clock;
    auto s = trigger_schedule::make("* * * * * *", "UTC", 0, 0);
    const auto last = clock.now_ms() / 1000 * 1000;
    clock.advance(3 * 3600'000);
    auto all = fires_due(s, last, clock.now_ms(), catch_up_policy::all, 100, 0);
    CHECK(all.fire.size() == 100);
    CHECK(all.skipped == 3 * 3600 - 100);
    CHECK(all.fire.back() == last + 3 * 3600'000);
    CHECK(all.fire.front() == last + (3 * 3600 - 99) * 1000);
    auto latest = fires_due(s, last, clock.now_ms(), catch_up_policy::latest, 100, 0);
    CHECK(latest.fire == std::vector<std::int64_t>{last + 3 * 3600'000});
}
