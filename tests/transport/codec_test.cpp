#include <catch2/catch.hpp>

#include "core/protocol.hpp"
#include "transport/codec.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;

namespace {

std::string as_string(const std::vector<std::uint8_t>& v) { return {v.begin(), v.end()}; }

/// Runs decode_frame expecting a frame_error; returns it.
frame_error decode_failure(std::string_view bytes, bool json_text = false) {
    try {
        decode_frame(bytes, json_text);
    } catch (const frame_error& e) {
        return e;
    }
    FAIL("decode_frame accepted a bad frame");
    throw;  // unreachable
}

}  // namespace

TEST_CASE("codec: one message round-trips as the map itself") {
    auto json_text = GENERATE(false, true);
    json msg = {{"t", "hello"}, {"protocol", 1}, {"tags", {{"zone", "eu"}}}, {"running", json::array()},
                {"load", -2.5}, {"big", std::uint64_t{1} << 63}, {"neg", -42}, {"none", nullptr}};
    std::string frame = encode_frame({msg}, json_text);
    if (!json_text) CHECK(static_cast<unsigned char>(frame[0]) >> 4 == 0x8);  // a fixmap, not an array
    auto out = decode_frame(frame, json_text);
    REQUIRE(out.size() == 1);
    CHECK(out[0] == msg);
}

TEST_CASE("codec: several messages travel as one array and come back in order") {
    auto json_text = GENERATE(false, true);
    auto count = GENERATE(2, 15, 16, 70000);  // fixarray, array16 and array32 headers
    std::vector<json> msgs;
    for (int i = 0; i < count; ++i) msgs.push_back({{"t", "output"}, {"seq", i}, {"data", "line " + std::to_string(i)}});
    auto out = decode_frame(encode_frame(msgs, json_text), json_text);
    REQUIRE(out.size() == msgs.size());
    CHECK(out == msgs);
}

TEST_CASE("codec: joining pre-encoded messages equals encoding the array") {
    std::vector<json> msgs = {{{"t", "a"}}, {{"t", "b"}, {"x", 1}}, {{"t", "c"}}};
    std::vector<std::string> parts;
    for (const auto& m : msgs) parts.push_back(encode_message(m, false));
    CHECK(join_encoded(parts, false) == as_string(json::to_msgpack(json(msgs))));
    CHECK(decode_frame(join_encoded({encode_message(msgs[0], true)}, true), true) == std::vector<json>{msgs[0]});
}

TEST_CASE("codec: binary and ext values survive") {
    json msg = {{"t", "output"}, {"data", json::binary({1, 2, 3, 0xff})}};
    auto out = decode_frame(encode_message(msg, false), false);
    REQUIRE(out.size() == 1);
    const std::vector<std::uint8_t>& bytes = out[0]["data"].get_binary();
    CHECK(bytes == std::vector<std::uint8_t>{1, 2, 3, 0xff});
    // {"t": "x", "e": fixext1 of type 5 holding 0x07}
    const unsigned char raw[] = {0x82, 0xa1, 't', 0xa1, 'x', 0xa1, 'e', 0xd4, 0x05, 0x07};
    std::string ext(reinterpret_cast<const char*>(raw), sizeof raw);
    auto with_ext = decode_frame(ext, false);
    CHECK(with_ext[0]["e"].get_binary().subtype() == 5);
}

TEST_CASE("codec: garbage bytes are refused with 1007 and a reason") {
    std::string bytes = GENERATE(std::string("\xc1"), std::string("hello world"), std::string(""),
                                 std::string("\x82\xa1t"));  // reserved byte, trailing bytes, empty, truncated
    auto e = decode_failure(bytes);
    CHECK(e.close_code == 1007);
    CHECK(e.kind() == orbitmesh::core::error_kind::protocol);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid MessagePack frame: "));
}

TEST_CASE("codec: a value that is not a map is refused") {
    auto e1 = decode_failure(as_string(json::to_msgpack(json(42))));
    CHECK(e1.close_code == 1007);
    CHECK(std::string(e1.what()) == "message is not a map");
    auto e2 = decode_failure(as_string(json::to_msgpack(json::array({{{"t", "a"}}, 7}))));
    CHECK(std::string(e2.what()) == "message is not a map");
    auto e3 = decode_failure("[1,2]", true);
    CHECK(std::string(e3.what()) == "message is not a map");
}

TEST_CASE("codec: a map without a string t is refused") {
    for (const json& m : {json{{"x", 1}}, json{{"t", 5}}}) {
        auto e = decode_failure(as_string(json::to_msgpack(m)));
        CHECK(e.close_code == 1007);
        CHECK_THAT(e.what(), Catch::Contains("\"t\""));
    }
    CHECK_THAT(decode_failure(R"({"type":"hello"})", true).what(), Catch::Contains("\"t\""));
}

TEST_CASE("codec: a map key that is not a string is refused") {
    std::string bytes = "\x81\x01\x02";  // {1: 2}
    CHECK_THAT(decode_failure(bytes).what(), Catch::Contains("map key is not a string"));
}

TEST_CASE("codec: a nesting bomb is refused without crashing or allocating per level") {
    SECTION("a million nested MessagePack arrays") {
        std::string bomb(1'000'000, static_cast<char>(0x91));
        bomb.push_back(static_cast<char>(0xc0));
        auto e = decode_failure(bomb);
        CHECK(e.close_code == 1007);
        CHECK_THAT(e.what(), Catch::Contains("nested deeper than 64 levels"));
    }
    SECTION("a million nested JSON arrays") {
        std::string bomb(1'000'000, '[');
        CHECK_THAT(decode_failure(bomb, true).what(), Catch::Contains("nested deeper than 64 levels"));
    }
    SECTION("a container header claiming four billion elements") {
        std::string liar = "\xdd\xff\xff\xff\xff\xc0";  // array32 of 2^32-1 elements, one present
        CHECK_THAT(decode_failure(liar).what(), Catch::StartsWith("invalid MessagePack frame: truncated"));
        std::string liar_map = "\xdf\xff\xff\xff\xff";
        CHECK_THAT(decode_failure(liar_map).what(), Catch::StartsWith("invalid MessagePack frame: truncated"));
    }
    SECTION("nesting up to the limit is fine") {
        json deep = {{"t", "x"}};
        json* at = &deep;
        for (int i = 0; i < 60; ++i) at = &((*at)["d"] = json::object());
        CHECK(decode_frame(encode_message(deep, false), false).at(0) == deep);
        CHECK(decode_frame(encode_message(deep, true), true).at(0) == deep);
    }
}

TEST_CASE("codec: JSON text frames with bad syntax are refused with 1007") {
    auto e = decode_failure("{\"t\": ", true);
    CHECK(e.close_code == 1007);
    CHECK_THAT(e.what(), Catch::StartsWith("invalid JSON frame: "));
}

TEST_CASE("codec: JSON encoding replaces invalid UTF-8 instead of throwing") {
    json msg = {{"t", "output"}, {"data", std::string("bad \xff byte")}};
    std::string text = encode_message(msg, true);
    CHECK(decode_frame(text, true).at(0)["t"] == "output");
}
