// Twins (SPEC §7): the fold of a twin stream, merge patches, drift and `twin set` words.
#include <catch2/catch.hpp>

#include "core/error.hpp"
#include "core/twin.hpp"

using namespace orbitmesh::core;

TEST_CASE("twin: desired merges patches, reported replaces, each half versioned") {
    twin_record t;
    t.agent_id = "a1";
    auto e1 = make_twin_event(t, twin_event::desired, {{"patch", {{"drain", true}, {"labels", {{"zone", "eu"}}}}}, {"version", 1}}, 10);
    apply(t, e1);
    auto e2 = make_twin_event(t, twin_event::desired, {{"patch", {{"labels", {{"zone", nullptr}, {"rack", "r1"}}}}}, {"version", 2}}, 20);
    apply(t, e2);
    CHECK(e2.stream == "twin-a1");
    CHECK(e2.version == 2);
    CHECK(t.desired == json{{"drain", true}, {"labels", {{"rack", "r1"}}}});
    CHECK(t.desired_version == 2);
    apply(t, make_twin_event(t, twin_event::reported, {{"reported", {{"drain", true}, {"arch", "x86_64"}}}, {"version", 7}}, 30));
    CHECK(t.reported_version == 7);
    CHECK(t.reported == json{{"drain", true}, {"arch", "x86_64"}});
    CHECK(twin_draining(t));
    CHECK(twin_drift(t) == json{{"labels", {{"desired", {{"rack", "r1"}}}, {"reported", nullptr}}}});
}

TEST_CASE("twin: reported labels may hold more than were asked for without drift") {
    twin_record t;
    t.desired = {{"labels", {{"zone", "eu"}}}, {"concurrency", 2}};
    t.reported = {{"labels", {{"zone", "eu"}, {"role", "web"}}}, {"concurrency", 2}};
    CHECK(twin_drift(t).empty());
    t.reported["concurrency"] = 4;
    CHECK(twin_drift(t).contains("concurrency"));
    CHECK_FALSE(twin_draining(t));
}

TEST_CASE("twin: set words become a patch; JSON values, text, deletion and nesting") {
    CHECK(twin_patch_from_words({"drain=true", "concurrency=3", "note=hello world", "labels.zone=eu", "old="}) ==
          json{{"drain", true}, {"concurrency", 3}, {"note", "hello world"}, {"labels", {{"zone", "eu"}}}, {"old", nullptr}});
    CHECK_THROWS_AS(twin_patch_from_words({"drain"}), error);
    CHECK_THROWS_AS(twin_patch_from_words({"=x"}), error);
    CHECK_THROWS_AS(twin_patch_from_words({"labels..zone=x"}), error);
}
