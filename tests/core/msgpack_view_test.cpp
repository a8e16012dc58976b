#include <catch2/catch.hpp>

#include <random>
#include <vector>

#include "core/error.hpp"
#include "core/msgpack_view.hpp"

using namespace orbitmesh::core;

namespace {

std::vector<std::uint8_t> pack(const json& j) { return json::to_msgpack(j); }

}  // namespace

TEST_CASE("msgpack view: scalars of every width read back as nlohmann wrote them") {
    for (std::int64_t v : {0LL, 1LL, 127LL, 128LL, 255LL, 256LL, 65535LL, 65536LL, 4294967295LL, 4294967296LL,
                           -1LL, -32LL, -33LL, -128LL, -129LL, -32768LL, -32769LL, -2147483648LL, -2147483649LL}) {
        auto bytes = pack(v);
        INFO(v);
        CHECK(mp_value(bytes).as_int() == v);
    }
    auto f = pack(1.5);
    CHECK(mp_value(f).as_double() == 1.5);
    auto d = pack(0.1);
    CHECK(mp_value(d).as_double() == 0.1);
    auto t = pack(true);
    CHECK(mp_value(t).as_bool());
    auto n = pack(nullptr);
    CHECK(mp_value(n).is_nil());
    for (std::size_t len : {0u, 31u, 32u, 255u, 256u, 70000u}) {
        std::string s(len, 'x');
        auto bytes = pack(s);
        CHECK(mp_value(bytes).as_string() == s);
    }
}

TEST_CASE("msgpack view: maps are looked up and walked in place, arrays iterated") {
    json j{{"attempt", 3}, {"agent_id", "a1"}, {"output", {{"lines", {"a", "b"}}, {"n", 2}}}, {"list", {1, 2, 3}}};
    auto bytes = pack(j);
    mp_value v(bytes);
    REQUIRE(v.is_map());
    CHECK(v.size() == 4);
    CHECK(v.find("attempt")->as_int() == 3);
    CHECK(v.find("agent_id")->as_string() == "a1");
    CHECK_FALSE(v.find("missing"));
    CHECK(v.find("output")->to_json() == j["output"]);
    CHECK(v.find("output")->find("n")->as_int() == 2);
    std::vector<std::int64_t> seen;
    v.find("list")->for_each_element([&](mp_value e) { seen.push_back(e.as_int()); });
    CHECK(seen == std::vector<std::int64_t>{1, 2, 3});
    std::vector<std::string> keys;
    v.for_each_entry([&](std::string_view k, mp_value) { keys.emplace_back(k); });
    CHECK(keys == std::vector<std::string>{"agent_id", "attempt", "list", "output"});  // nlohmann sorts keys
    CHECK(v.raw().size() == bytes.size());
}

TEST_CASE("msgpack view: a wrong type or a malformed buffer throws invalid_input, never reads past the end") {
    auto s = pack("text");
    CHECK_THROWS_AS(mp_value(s).as_int(), error);
    std::vector<std::uint8_t> reserved{0xc1};
    CHECK_THROWS_AS(mp_value(reserved).type(), error);
    std::vector<std::uint8_t> long_string{0xdb, 0xff, 0xff, 0xff, 0xff, 'a'};
    CHECK_THROWS_AS(mp_value(long_string).as_string(), error);
    std::vector<std::uint8_t> huge_array{0xdd, 0xff, 0xff, 0xff, 0xff};
    CHECK_THROWS_AS(mp_value(huge_array).raw(), error);
    std::vector<std::uint8_t> deep(1000, 0x91);  // [[[[...
    deep.push_back(0xc0);
    CHECK_THROWS_AS(mp_value(deep).raw(), error);
    std::vector<std::uint8_t> empty;
    CHECK_THROWS_AS(mp_value(empty).type(), error);
}

TEST_CASE("msgpack view: every truncation of a valid buffer is either read or refused cleanly") {
    json j{{"spec", {{"command", "shell"}, {"payload", {{"script", "echo hi"}, {"env", {{"A", "1"}}}}}, {"priority", -3}}},
           {"id", "0193"}, {"f", 2.25}, {"big", 1ULL << 40}};
    auto full = pack(j);
    std::mt19937 rng(7);
    for (std::size_t cut = 0; cut <= full.size(); ++cut) {
        std::vector<std::uint8_t> part(full.begin(), full.begin() + static_cast<std::ptrdiff_t>(cut));
        if (!part.empty() && cut < full.size()) part.back() ^= static_cast<std::uint8_t>(rng());
        try {
            mp_value v(part);
            (void)v.raw();
            if (auto spec = v.find("spec")) (void)spec->find("payload");
        } catch (const error& e) {
            CHECK(e.kind() == error_kind::invalid_input);
        }
    }
}
