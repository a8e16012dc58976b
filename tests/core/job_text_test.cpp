#include <catch2/catch.hpp>

#include <vector>

#include "core/clock.hpp"
#include "core/job.hpp"
#include "core/job_text.hpp"
#include "core/json_text.hpp"

using namespace orbitmesh::core;

namespace {

std::string dumped(const job_record& r) { return to_json(r).dump(-1, ' ', false, json::error_handler_t::replace); }

job_record plain_record() {
    job_record r;
    r.id = "0193a1b2-0000-7000-8000-000000000001";
    r.spec.command = "echo";
    r.spec.payload = "hello";
    r.created_ms = 1'764'000'000'123;
    r.updated_ms = 1'764'000'000'456;
    return r;
}

}  // namespace

TEST_CASE("job text: a fresh pending record prints as to_json().dump() does") {
    auto r = plain_record();
    CHECK(to_json_text(r) == dumped(r));
}

TEST_CASE("job text: every field set, nested values and odd strings print as dump() does") {
    auto r = plain_record();
    r.spec.payload = json{{"script", "echo \"hi\"\n\tdone"}, {"n", 3}, {"f", 1.5}, {"list", {1, "two", nullptr}}};
    r.spec.target.agent = "agent-7";
    r.spec.target.capabilities = {"gpu", "linux"};
    r.spec.target.tags = {{"zone", "eu"}, {"arch", "x86"}};
    r.spec.priority = -3;
    r.spec.timeout_ms = 30'000;
    r.spec.retries = {2, 500, 8000};
    r.spec.idempotency_key = "key-\xc3\xa9";  // é, valid UTF-8
    r.spec.mode = job_mode::long_running;
    r.spec.on_agent_lost = agent_lost_policy::fail;
    r.spec.trace = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    r.spec.secrets = {"DB_PASSWORD", "API_TOKEN"};
    r.state = job_state::failed;
    r.attempt = 2;
    r.retries_used = 1;
    r.reassigns = 1;
    r.agent_id = "a1";
    r.agent_name = "alpha";
    r.exit_code = -9;
    r.output = json{{"lines", {"a", "b"}}};
    r.error = "exit status 1: \x01control and a bad byte \xff";
    r.progress_percent = 42.5;
    r.progress_message = "half way";
    r.started_ms = r.created_ms + 5;
    r.finished_ms = r.created_ms + 9;
    r.not_before_ms = 17;
    r.cancel_requested = true;
    r.version = 9;
    CHECK(to_json_text(r) == dumped(r));
    CHECK(json::parse(to_json_text(r)) == json::parse(dumped(r)));
}

TEST_CASE("job text: payloads of every json type") {
    auto r = plain_record();
    for (const json& p : {json(), json(true), json(-12), json(18'446'744'073'709'551'615ull), json(0.1), json("x"),
                          json::array(), json::object(), json{{"k", json::array({json::object()})}}}) {
        r.spec.payload = p;
        r.output = p;
        CHECK(to_json_text(r) == dumped(r));
    }
}

TEST_CASE("json text: punctuation of nested containers") {
    std::string out;
    json_text w(out);
    w.begin_object().key("a").begin_array().num(1).str("two").null().end_array().key("b").begin_object().end_object();
    w.key("c").boolean(false).end_object();
    CHECK(out == R"({"a":[1,"two",null],"b":{},"c":false})");
    CHECK(json::parse(out) == json{{"a", {1, "two", nullptr}}, {"b", json::object()}, {"c", false}});
}

TEST_CASE("format_time: ISO 8601 UTC with milliseconds, empty for unset times") {
    CHECK(format_time(1'764'000'000'123) == "2025-11-24T16:00:00.123Z");
    CHECK(format_time(1000) == "1970-01-01T00:00:01.000Z");
    CHECK(format_time(253'402'300'799'999) == "9999-12-31T23:59:59.999Z");
    CHECK(format_time(0).empty());
    CHECK(format_time(-5).empty());
}

TEST_CASE("job text: times are written as format_time writes them, across the whole range") {
    std::vector<std::int64_t> samples{0, -5, 1, 999, 1000, 86'399'999, 86'400'000, 951'782'400'000 /* 2000-02-29 */,
                                      1'764'000'000'123, 253'402'300'799'999 /* 9999-12-31 */, 253'402'300'800'000};
    std::uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        samples.push_back(static_cast<std::int64_t>(x % 260'000'000'000'000ULL));
    }
    for (auto ms : samples) {
        std::string out;
        json_text(out).time(ms);
        INFO(ms);
        REQUIRE(out == "\"" + format_time(ms) + "\"");
    }
}
