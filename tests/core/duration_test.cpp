#include <catch2/catch.hpp>

#include "core/duration.hpp"

using orbitmesh::core::parse_duration;

TEST_CASE("duration: units, compounds and the clock form parse to milliseconds") {
    CHECK(parse_duration("250ms") == 250);
    CHECK(parse_duration("30s") == 30'000);
    CHECK(parse_duration("5m") == 300'000);
    CHECK(parse_duration("1h") == 3'600'000);
    CHECK(parse_duration("2d") == 172'800'000);
    CHECK(parse_duration("1m30s") == 90'000);
    CHECK(parse_duration("1.5s") == 1500);
    CHECK(parse_duration("01:02:03") == 3'723'000);
}

TEST_CASE("duration: a bare number and junk are refused") {
    CHECK_FALSE(parse_duration("30"));
    CHECK_FALSE(parse_duration(""));
    CHECK_FALSE(parse_duration("5 minutes"));
    CHECK_FALSE(parse_duration("1:2"));
    CHECK_FALSE(parse_duration("00:61:00"));
    CHECK_FALSE(parse_duration("s"));
}
