// The payload of the shared store's output notifications (store/postgres/log_notice.cpp): what
// one hub's writer sends when it stores agent output, and how another hub's follower reads it.
#include <catch2/catch.hpp>

#include "store/postgres/log_notice.hpp"

using orbitmesh::store::postgres::log_notice;
using orbitmesh::store::postgres::parse_log_notice;

TEST_CASE("an output notice names its hub and jobs and reads back", "[log_notice]") {
    const auto payload = log_notice("hub-a", {"job1", "job2"});
    CHECK(payload == "hub-a|job1,job2");
    const auto parts = parse_log_notice(payload);
    CHECK(parts.hub_id == "hub-a");
    CHECK(parts.job_ids == std::vector<std::string>{"job1", "job2"});
    CHECK_FALSE(parts.all);
}

TEST_CASE("an output notice too long for one NOTIFY says every job", "[log_notice]") {
    std::vector<std::string> ids(400, std::string(26, 'x'));
    const auto payload = log_notice("hub-a", ids);
    CHECK(payload == "hub-a|*");
    const auto parts = parse_log_notice(payload);
    CHECK(parts.hub_id == "hub-a");
    CHECK(parts.all);
    CHECK(parts.job_ids.empty());
}

TEST_CASE("a payload that is not an output notice wakes every reader", "[log_notice]") {
    const auto parts = parse_log_notice("garbage");
    CHECK(parts.hub_id.empty());
    CHECK(parts.all);
    CHECK(parse_log_notice("hub-a|").job_ids.empty());
}
