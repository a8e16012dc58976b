// Quick numbers for the store, hidden from normal runs: `store_tests "[.bench]"`.
// Real benchmarks live in bench/; these only check the store's own shape (group commit).
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>

#include "fixtures.hpp"

using namespace orbitmesh;
using store::test::open_store;
using store::test::submit_and_wait;
using store::test::temp_dir;

namespace {

using bench_clock = std::chrono::steady_clock;

double seconds_since(bench_clock::time_point start) {
    return std::chrono::duration<double>(bench_clock::now() - start).count();
}

const char* name(store::durability d) { return d == store::durability::full ? "full" : "normal"; }

// An event shaped like a job transition, so sizes are realistic.
store::write_batch job_events(int first, int count) {
    store::write_batch b;
    for (int i = 0; i < count; ++i) {
        auto e = store::test::make_event("job-" + std::to_string(first + i), 1,
                                         {{"command", "echo"}, {"payload", "hello"}, {"priority", 0}, {"agent", "a1"}});
        b.events.push_back(std::move(e));
    }
    return b;
}

void print(const char* metric, const char* config, double value, const char* unit) {
    std::printf("{\"metric\":\"%s\",\"config\":\"%s\",\"value\":%.0f,\"unit\":\"%s\"}\n", metric, config, value, unit);
}

}  // namespace

TEST_CASE("event store bench: 100k events in batches of 100", "[.bench]") {
    for (auto mode : {store::durability::full, store::durability::normal}) {
        temp_dir dir;
        auto s = open_store(dir, mode);
        const auto start = bench_clock::now();
        for (int b = 0; b < 1000; ++b) s->submit(job_events(b * 100, 100), nullptr);
        s->flush();
        const double secs = seconds_since(start);
        print("events_per_second", name(mode), 100'000 / secs, "events/s");
        CHECK(s->last_seq() == 100'000);
    }
}

TEST_CASE("event store bench: one batch of one event at a time", "[.bench]") {
    for (auto mode : {store::durability::full, store::durability::normal}) {
        temp_dir dir;
        auto s = open_store(dir, mode);
        std::vector<double> latencies_us;
        const auto start = bench_clock::now();
        for (int i = 0; i < 3000; ++i) {
            const auto t0 = bench_clock::now();
            REQUIRE_FALSE(submit_and_wait(*s, job_events(i, 1)));
            latencies_us.push_back(std::chrono::duration<double, std::micro>(bench_clock::now() - t0).count());
        }
        const double secs = seconds_since(start);
        std::sort(latencies_us.begin(), latencies_us.end());
        print("commits_per_second", name(mode), 3000 / secs, "commits/s");
        print("commit_p50", name(mode), latencies_us[latencies_us.size() / 2], "us");
        print("commit_p99", name(mode), latencies_us[latencies_us.size() * 99 / 100], "us");
    }
}

TEST_CASE("event store bench: 16 submitters one event at a time each", "[.bench]") {
    temp_dir dir;
    auto s = open_store(dir, store::durability::full);
    constexpr int threads = 16, each = 500;
    const auto start = bench_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t) {
        pool.emplace_back([&, t] {
            for (int i = 0; i < each; ++i) (void)submit_and_wait(*s, job_events(t * each + i, 1));
        });
    }
    for (auto& t : pool) t.join();
    print("events_per_second", "full, 16 waiting submitters", threads * each / seconds_since(start), "events/s");
    CHECK(s->last_seq() == threads * each);
}

TEST_CASE("event store bench: replay with for_each_event", "[.bench]") {
    temp_dir dir;
    auto s = open_store(dir, store::durability::normal);
    constexpr int total = 500'000;
    for (int b = 0; b < total / 1000; ++b) s->submit(job_events(b * 1000, 1000), nullptr);
    s->flush();
    std::int64_t seen = 0;
    const auto start = bench_clock::now();
    s->for_each_event([&](const core::event& e) { seen += e.version; });
    print("replay_events_per_second", "500k events", total / seconds_since(start), "events/s");
    CHECK(seen == total);
}

TEST_CASE("event store bench: reopening a store of 1M events (integrity check included)", "[.bench]") {
    temp_dir dir;
    {
        auto s = open_store(dir, store::durability::normal);
        for (int b = 0; b < 1000; ++b) s->submit(job_events(b * 1000, 1000), nullptr);
    }
    const auto start = bench_clock::now();
    auto s = open_store(dir);
    print("open_ms", "1M events", seconds_since(start) * 1000, "ms");
    CHECK(s->last_seq() == 1'000'000);
}
