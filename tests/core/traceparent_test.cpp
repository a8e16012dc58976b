#include <catch2/catch.hpp>

#include "core/traceparent.hpp"

using namespace orbitmesh::core;

TEST_CASE("traceparent: a valid version-00 header parses into its parts") {
    auto t = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    REQUIRE(t);
    CHECK(t->trace_id == "4bf92f3577b34da6a3ce929d0e0e4736");
    CHECK(t->span_id == "00f067aa0ba902b7");
    CHECK(t->flags == "01");
    CHECK(t->text() == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    // A later version may append fields; they are ignored.
    CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra"));
}

TEST_CASE("traceparent: malformed headers are refused") {
    for (const char* bad : {"", "nonsense", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
                            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
                            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"})
        CHECK_FALSE(parse_traceparent(bad));
}

TEST_CASE("traceparent: a job's span is its own, stable, and in its parent's trace") {
    auto parent = *parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
    auto a = child_of(parent, "job-a"), again = child_of(parent, "job-a"), b = child_of(parent, "job-b");
    CHECK(a.trace_id == parent.trace_id);
    CHECK(a.span_id != parent.span_id);
    CHECK(a.span_id == again.span_id);
    CHECK(a.span_id != b.span_id);
    CHECK(parse_traceparent(a.text()));
    CHECK(job_traceparent(parent.text(), "job-a") == a.text());
    CHECK(job_traceparent("", "job-a").empty());
}

TEST_CASE("traceparent: new traces are valid and distinct; a run's trace is derived from its id") {
    auto x = new_trace(), y = new_trace();
    CHECK(parse_traceparent(x.text()));
    CHECK(x.trace_id != y.trace_id);
    CHECK(run_trace("run-1").text() == run_trace("run-1").text());
    CHECK(run_trace("run-1").trace_id != run_trace("run-2").trace_id);
    CHECK(parse_traceparent(run_trace("run-1").text()));
}
