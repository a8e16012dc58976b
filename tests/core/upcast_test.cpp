#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/upcast.hpp"

using namespace orbitmesh::core;

namespace {

// A made-up history of one type: schema 2 renamed "code" to "exit_code", schema 3 nested it.
void rename_code(json& d) {
    d["exit_code"] = d["code"];
    d.erase("code");
}
void nest_exit_code(json& d) {
    d["result"] = {{"exit_code", d["exit_code"]}};
    d.erase("exit_code");
}
constexpr upcaster history[] = {{"test.finished", 1, &rename_code}, {"test.finished", 2, &nest_exit_code}};

event old_event(json data) {
    event e;
    e.seq = 7;
    e.type = "test.finished";
    e.data = std::move(data);
    return e;
}

}  // namespace

TEST_CASE("upcast: this build's event types are all at schema 1, read as stored") {
    CHECK(current_schema("job.submitted") == 1);
    CHECK_FALSE(has_upcasters("job.finished"));
    auto e = old_event({{"code", 3}});
    e.type = "job.finished";
    CHECK_FALSE(upcast(e));
    CHECK(e.data == json{{"code", 3}});
}

TEST_CASE("upcast: an event without a schema mark runs through every step in order") {
    CHECK(current_schema("test.finished", history) == 3);
    auto e = old_event({{"code", 3}});
    CHECK(upcast(e, history));
    CHECK(e.data == json{{"result", {{"exit_code", 3}}}, {"schema", 3}});
}

TEST_CASE("upcast: an event at a middle schema runs only the later steps; a current one none") {
    auto mid = old_event({{"exit_code", 4}, {"schema", 2}});
    CHECK(upcast(mid, history));
    CHECK(mid.data == json{{"result", {{"exit_code", 4}}}, {"schema", 3}});
    auto current = old_event({{"result", {{"exit_code", 5}}}, {"schema", 3}});
    CHECK_FALSE(upcast(current, history));
}

TEST_CASE("upcast: data from a newer build is refused with a clear message") {
    auto e = old_event({{"schema", 9}});
    CHECK_THROWS_WITH(upcast(e, history), "event 7 (test.finished) has schema 9 but this orbitmesh knows only up to 3; "
                                          "it was written by a newer orbitmesh: upgrade");
}
