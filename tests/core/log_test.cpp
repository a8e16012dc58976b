#include <catch2/catch.hpp>

#include "core/log.hpp"

using namespace orbitmesh::core;

TEST_CASE("log: levels and formats parse, and the threshold only goes down") {
    CHECK(log::parse_level("warn") == log::level::warn);
    CHECK(log::parse_level("warning") == log::level::warn);
    CHECK_FALSE(log::parse_level("chatty"));
    CHECK(log::parse_format("json") == log::format::json);
    CHECK_FALSE(log::parse_format("xml"));
    log::configure(log::format::text, log::level::warn);
    CHECK_FALSE(log::enabled(log::level::info));
    CHECK(log::enabled(log::level::error));
    log::lower_threshold(log::level::debug);
    CHECK(log::enabled(log::level::debug));
    log::lower_threshold(log::level::error);
    CHECK(log::enabled(log::level::debug));
    log::configure(log::format::text, log::level::info);
}
