#include <catch2/catch.hpp>

#include "transport/codec.hpp"
#include "transport/http_target.hpp"
#include "transport/send_queue.hpp"

using orbitmesh::core::json;
using namespace orbitmesh::transport;

TEST_CASE("send_queue: the first push starts the writer and later ones join its batch") {
    send_queue q(1 << 20, false);
    CHECK(q.push(encode_message({{"t", "a"}}, false)) == send_queue::pushed::start_writer);
    CHECK(q.push(encode_message({{"t", "b"}}, false)) == send_queue::pushed::queued);
    send_queue::batch b;
    REQUIRE(q.next(b) == send_queue::step::write);
    CHECK(b.messages == 2);
    CHECK(decode_frame(b.frame, false) == std::vector<json>{{{"t", "a"}}, {{"t", "b"}}});
    CHECK(q.next(b) == send_queue::step::idle);
    CHECK(q.push(encode_message({{"t", "c"}}, false)) == send_queue::pushed::start_writer);
}

TEST_CASE("send_queue: a batch stops at the batch size but always takes one message") {
    send_queue q(1 << 20, true, 100);
    std::string big(300, 'x');
    q.push(encode_message({{"t", big}}, true));
    q.push(encode_message({{"t", "small"}}, true));
    send_queue::batch b;
    REQUIRE(q.next(b) == send_queue::step::write);
    CHECK(b.messages == 1);
    REQUIRE(q.next(b) == send_queue::step::write);
    CHECK(b.frame == R"({"t":"small"})");
}

TEST_CASE("send_queue: passing the byte bound overflows and closes the queue") {
    send_queue q(100, false);
    CHECK(q.push(std::string(60, 'a')) == send_queue::pushed::start_writer);
    CHECK(q.push(std::string(60, 'b')) == send_queue::pushed::overflow);
    CHECK(q.queued_bytes() == 0);
    CHECK(q.push("c") == send_queue::pushed::closed);
}

TEST_CASE("send_queue: a close request waits for what is queued before it") {
    send_queue q(1 << 20, false);
    q.push(encode_message({{"t", "bye"}}, false));
    CHECK_FALSE(q.request_close(1000, "done"));  // the writer is already due to run
    CHECK(q.push("late") == send_queue::pushed::closed);
    send_queue::batch b;
    CHECK(q.next(b) == send_queue::step::write);
    REQUIRE(q.next(b) == send_queue::step::close);
    CHECK(b.close_code == 1000);
    CHECK(b.close_reason == "done");
    CHECK(q.next(b) == send_queue::step::idle);
}

TEST_CASE("http target: path and query are percent-decoded") {
    std::string path;
    std::map<std::string, std::string> query;
    split_target("/api/v1/jobs/a%20b%2Fc?state=run+ning&x=%3D1&flag&bad=%zz#frag", path, query);
    CHECK(path == "/api/v1/jobs/a b/c");
    CHECK(query.at("state") == "run ning");
    CHECK(query.at("x") == "=1");
    CHECK(query.at("flag").empty());
    CHECK(query.at("bad") == "%zz");
    CHECK(percent_decode("a+b%4", false) == "a+b%4");
}
