// Small agent pieces: reconnect jitter, persistent id, line splitting, text codecs, path guard.
#include <catch2/catch.hpp>
#include <set>

#include "agent_test_support.hpp"
#include "engine/agent/agent_identity.hpp"
#include "engine/agent/line_splitter.hpp"
#include "engine/agent/path_guard.hpp"
#include "engine/agent/reconnect_backoff.hpp"
#include "engine/agent/text_codec.hpp"

using namespace agent_test;

TEST_CASE("agent reconnect: decorrelated jitter stays within [min, max] and spreads out") {
    reconnect_backoff b(100, 5000, 42);
    std::set<std::int64_t> seen;
    std::int64_t prev = 100;
    for (int i = 0; i < 1000; ++i) {
        auto d = b.next();
        REQUIRE(d >= 100);
        REQUIRE(d <= 5000);
        REQUIRE(d <= std::max<std::int64_t>(100, prev * 3));
        seen.insert(d);
        prev = d;
    }
    CHECK(seen.size() > 100);      // jitter, not a fixed ladder
    CHECK(*seen.rbegin() > 2500);  // and it does grow toward the cap

    b.reset();
    CHECK(b.next() <= 300);  // back to the start after a welcome
}

TEST_CASE("agent reconnect: a degenerate range still gives valid delays") {
    reconnect_backoff same(200, 200, 1);
    for (int i = 0; i < 10; ++i) CHECK(same.next() == 200);
    reconnect_backoff inverted(500, 100, 1);
    for (int i = 0; i < 10; ++i) CHECK(inverted.next() == 500);
}

TEST_CASE("agent identity: the id is created once and reused across loads") {
    temp_dir dir;
    auto data = dir.path / "agents" / "a1";
    auto first = load_or_create_agent_id(data);
    CHECK(first.size() >= 32);
    CHECK(load_or_create_agent_id(data) == first);
    CHECK(fs::exists(data / "agent_id"));
    CHECK(load_or_create_agent_id(dir.path / "agents" / "a2") != first);
}

TEST_CASE("agent line splitter: lines without newline, split chunks, overlong lines") {
    line_splitter s(8);
    std::vector<std::string> got;
    auto emit = [&](std::string l) { got.push_back(std::move(l)); };
    s.feed("ab", emit);
    s.feed("c\n\nde", emit);
    CHECK(got == std::vector<std::string>{"abc", ""});
    s.feed("fghijklmn", emit);
    CHECK(got.back() == "defghijk");
    s.flush(emit);
    CHECK(got.back() == "lmn");
}

TEST_CASE("agent text codec: base64 round trip and UTF-8 validation") {
    for (const std::string& s :
         std::vector<std::string>{"", "f", "fo", "foo", "foob", std::string("\0\xff\x10", 3)}) {
        std::string back;
        REQUIRE(base64_decode(base64_encode(s), back));
        CHECK(back == s);
    }
    CHECK(base64_encode("foobar") == "Zm9vYmFy");
    std::string junk;
    CHECK_FALSE(base64_decode("Zm9v!", junk));
    CHECK(is_valid_utf8("plain ascii"));
    CHECK(is_valid_utf8("grüße, 日本, 😀"));
    CHECK_FALSE(is_valid_utf8("\xff"));
    CHECK_FALSE(is_valid_utf8("\xc0\xaf"));      // overlong '/'
    CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));  // surrogate
}

TEST_CASE("agent path guard: relative paths start at the first root and escapes are refused") {
    temp_dir dir;
    fs::create_directories(dir.path / "root" / "sub");
    path_guard guard({dir.path / "root"});
    auto root = fs::canonical(dir.path / "root");
    CHECK(guard.resolve("sub/x.txt", "file.read") == root / "sub" / "x.txt");
    CHECK(guard.resolve("sub/../y", "file.read") == root / "y");
    CHECK(guard.resolve(root.string(), "file.stat") == root);
    CHECK_THROWS_WITH(guard.resolve("../root2/x", "file.read"),
                      Catch::StartsWith("file.read: path \"../root2/x\" is outside the allowed roots"));
    CHECK_THROWS_WITH(guard.resolve("", "file.read"), "file.read: path \"\" is empty");
    path_guard none({});
    CHECK_THROWS_WITH(none.resolve("x", "file.read"), Catch::Contains("no allowed roots"));
}
