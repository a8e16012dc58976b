#include <catch2/catch.hpp>

#include <fstream>
#include <random>
#include <set>
#include <string>

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/error.hpp"
#include "fixtures.hpp"

using namespace orbitmesh;
using store::test::make_event;
using store::test::open_store;
using store::test::read_events;
using store::test::submit_and_wait;
using store::test::temp_dir;

namespace {

core::job_record make_job(const std::string& id, core::job_state state) {
    core::job_record r;
    r.id = id;
    r.spec.command = "echo";
    r.spec.payload = {{"text", "hello"}, {"n", 3}};
    r.spec.priority = 7;
    r.spec.idempotency_key = "key-" + id;
    r.state = state;
    r.attempt = 2;
    r.agent_id = "agent-1";
    r.agent_name = "builder";
    r.exit_code = 0;
    r.output = {{"ok", true}};
    r.created_ms = 1'700'000'000'000;
    r.updated_ms = 1'700'000'000'500;
    r.version = 4;
    return r;
}

core::agent_record make_agent(const std::string& id) {
    core::agent_record a;
    a.id = id;
    a.name = "builder-" + id;
    a.tags = {{"zone", "eu"}};
    a.capabilities = {"shell", "echo"};
    a.concurrency = 4;
    a.state = core::agent_state::connected;
    a.last_seen_ms = 1'700'000'000'900;
    return a;
}

store::log_line make_log(const std::string& job_id, std::int64_t seq, std::string data = {}) {
    return {job_id, 1, seq, "stdout", data.empty() ? "line " + std::to_string(seq) : std::move(data), 1000 + seq};
}

std::set<std::string> names_in_schema(SQLite::Database& db, const std::string& type) {
    std::set<std::string> names;
    SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = ?");
    q.bind(1, type);
    while (q.executeStep()) names.insert(q.getColumn(0).getString());
    return names;
}

// Opens the store expecting a failure; returns the core::error it threw.
core::error open_failure(const temp_dir& dir) {
    try {
        open_store(dir);
    } catch (const core::error& e) {
        return e;
    }
    FAIL("opening the store did not throw");
    throw std::logic_error("unreachable");
}

}  // namespace

TEST_CASE("event store: opening a new data dir creates its directories, the schema and user_version") {
    temp_dir dir;
    const auto file = dir.path() / "data" / "nested" / "orbitmesh.db";
    store::event_store::open(store::test::sqlite_options(file))->close();

    SQLite::Database db(file, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == 3);
    CHECK(db.execAndGet("PRAGMA journal_mode").getString() == "wal");
    const auto tables = names_in_schema(db, "table");
    for (const char* t : {"events", "jobs", "agents", "job_logs", "runs", "idempotency_keys", "snapshots", "log_chain", "log_chain_start"})
        CHECK(tables.count(t) == 1);
    const auto indexes = names_in_schema(db, "index");
    CHECK(indexes.count("jobs_state") == 1);
    CHECK(indexes.count("jobs_idempotency_key") == 1);
}

TEST_CASE("event store: reopening keeps events, projections and output lines") {
    temp_dir dir;
    {
        auto s = open_store(dir);
        store::write_batch b;
        b.events = {make_event("job-1", 1), make_event("job-1", 2)};
        b.jobs = {make_job("job-1", core::job_state::running)};
        b.agents = {make_agent("a1")};
        b.logs = {make_log("job-1", 1), make_log("job-1", 2)};
        REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
        b = {};
        b.jobs = {make_job("job-1", core::job_state::succeeded)};  // an upsert replaces the row
        REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
    }  // the destructor closes

    auto s = open_store(dir);
    CHECK(read_events(*s).size() == 2);
    CHECK(s->last_seq() == 2);
    const auto jobs = s->load_jobs();
    REQUIRE(jobs.size() == 1);
    CHECK(core::to_json(jobs[0]) == core::to_json(make_job("job-1", core::job_state::succeeded)));
    const auto agents = s->load_agents();
    REQUIRE(agents.size() == 1);
    CHECK(core::to_json(agents[0]) == core::to_json(make_agent("a1")));
    CHECK(s->load_logs("job-1", 0, 10).size() == 2);
}

TEST_CASE("event store: projection columns hold plain values operators can query") {
    temp_dir dir;
    {
        auto s = open_store(dir);
        store::write_batch b;
        b.jobs = {make_job("job-1", core::job_state::timed_out)};
        b.agents = {make_agent("a1")};
        REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
    }
    SQLite::Database db(dir / "orbitmesh.db", SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT state, command, priority, attempt, agent_id, idempotency_key, created FROM jobs");
    REQUIRE(q.executeStep());
    CHECK(q.getColumn(0).getString() == "timed_out");
    CHECK(q.getColumn(1).getString() == "echo");
    CHECK(q.getColumn(2).getInt() == 7);
    CHECK(q.getColumn(3).getInt() == 2);
    CHECK(q.getColumn(4).getString() == "agent-1");
    CHECK(q.getColumn(5).getString() == "key-job-1");
    CHECK(q.getColumn(6).getInt64() == 1'700'000'000'000);
    CHECK(db.execAndGet("SELECT state FROM agents WHERE id = 'a1'").getString() == "connected");
}

TEST_CASE("event store: event data round-trips exactly") {
    temp_dir dir;
    auto s = open_store(dir);
    const core::json data = {
        {"text", "h\u00e9llo \u2603 \"quoted\"\n"}, {"neg", -42},          {"big", 18'446'744'073'709'551'615ULL},
        {"pi", 3.141592653589793},                 {"tiny", 1e-300},        {"list", {1, "two", nullptr, false}},
        {"nested", {{"a", {{"b", {{"c", 1.5}}}}}}}, {"empty_obj", core::json::object()}, {"empty_list", core::json::array()},
    };
    store::write_batch b;
    b.events = {make_event("s", 1, data), make_event("s", 2, "just a string")};
    REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));

    const auto events = read_events(*s);
    REQUIRE(events.size() == 2);
    CHECK(events[0].data == data);
    CHECK(events[0].data.dump() == data.dump());
    CHECK(events[1].data == "just a string");
    CHECK(events[0].stream == "s");
    CHECK(events[0].type == "test.happened");
    CHECK(events[0].time_ms == 1'700'000'000'001);
    CHECK(events[1].version == 2);
}

TEST_CASE("event store: for_each_event starts after after_seq and filters by stream") {
    temp_dir dir;
    auto s = open_store(dir);
    store::write_batch b;
    for (int v = 1; v <= 3; ++v) {
        for (const char* stream : {"job-a", "job-b", "run-c"}) b.events.push_back(make_event(stream, v));
    }
    REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
    REQUIRE(s->last_seq() == 9);

    const auto all = read_events(*s);
    REQUIRE(all.size() == 9);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].seq == static_cast<std::int64_t>(i + 1));

    const auto tail = read_events(*s, 6);
    REQUIRE(tail.size() == 3);
    CHECK(tail.front().seq == 7);

    const auto only_b = read_events(*s, 0, "job-b");
    REQUIRE(only_b.size() == 3);
    for (const auto& e : only_b) CHECK(e.stream == "job-b");
    CHECK(only_b[0].version == 1);
    CHECK(only_b[2].version == 3);

    const auto b_after = read_events(*s, only_b[0].seq, "job-b");
    REQUIRE(b_after.size() == 2);
    CHECK(b_after[0].version == 2);
    CHECK(read_events(*s, 0, "no-such-stream").empty());
    CHECK(read_events(*s, 9).empty());
}

TEST_CASE("event store: an exception from the for_each_event callback stops the scan and leaves the store usable") {
    temp_dir dir;
    auto s = open_store(dir);
    REQUIRE_FALSE(submit_and_wait(*s, store::test::events_batch("s", 1, 5)));
    int seen = 0;
    auto stop_at_two = [&seen](const core::event&) {
        if (++seen == 2) throw std::runtime_error("enough");
    };
    CHECK_THROWS_WITH(s->for_each_event(stop_at_two), "enough");
    CHECK(seen == 2);
    REQUIRE_FALSE(submit_and_wait(*s, store::test::events_batch("s", 6, 1)));
    CHECK(read_events(*s).size() == 6);
}

TEST_CASE("event store: load_logs pages through one job's output in seq order") {
    temp_dir dir;
    auto s = open_store(dir);
    store::write_batch b;
    for (int i = 25; i >= 1; --i) b.logs.push_back(make_log("job-a", i));  // written out of order
    b.logs.push_back(make_log("job-b", 1));
    b.logs.push_back(make_log("job-a", 3, "a resent duplicate"));  // same (job, seq): kept once
    REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));

    std::vector<store::log_line> all;
    std::int64_t after = 0;
    std::vector<std::size_t> page_sizes;
    for (;;) {
        const auto page = s->load_logs("job-a", after, 10);
        page_sizes.push_back(page.size());
        if (page.empty()) break;
        all.insert(all.end(), page.begin(), page.end());
        after = page.back().seq;
    }
    CHECK(page_sizes == std::vector<std::size_t>{10, 10, 5, 0});
    REQUIRE(all.size() == 25);
    for (std::size_t i = 0; i < all.size(); ++i) {
        CHECK(all[i].seq == static_cast<std::int64_t>(i + 1));
        CHECK(all[i].job_id == "job-a");
    }
    CHECK(all[2].data == "line 3");
    CHECK(all[2].stream == "stdout");
    CHECK(all[2].time_ms == 1003);
    CHECK(s->load_logs("job-b", 0, 10).size() == 1);
}

TEST_CASE("event store: a file that is not a database is refused with a storage error naming the file and the fix") {
    temp_dir dir;
    {
        std::ofstream garbage(dir / "orbitmesh.db", std::ios::binary);
        std::mt19937 rng(42);
        for (int i = 0; i < 8192; ++i) garbage.put(static_cast<char>(rng()));
    }
    const auto e = open_failure(dir);
    CHECK(e.kind() == core::error_kind::storage);
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains((dir / "orbitmesh.db").string()));
    CHECK_THAT(message, Catch::Contains("is damaged"));
    CHECK_THAT(message, Catch::Contains("restore it from a backup or move it aside"));
}

TEST_CASE("event store: a database written by a newer schema version is refused") {
    temp_dir dir;
    open_store(dir)->close();
    {
        SQLite::Database db(dir / "orbitmesh.db", SQLite::OPEN_READWRITE);
        db.exec("PRAGMA user_version = 99");
    }
    const auto e = open_failure(dir);
    CHECK(e.kind() == core::error_kind::storage);
    CHECK_THAT(std::string(e.what()), Catch::Contains("schema version 99") && Catch::Contains("newer orbitmesh"));
}

TEST_CASE("event store: after close the database file alone holds everything") {
    temp_dir dir;
    temp_dir copy;
    {
        auto s = open_store(dir);
        REQUIRE_FALSE(submit_and_wait(*s, store::test::events_batch("s", 1, 100)));
        s->close();
        s->close();  // idempotent
    }
    std::filesystem::copy_file(dir / "orbitmesh.db", copy / "orbitmesh.db");
    auto s = open_store(copy);
    CHECK(s->last_seq() == 100);
}

TEST_CASE("event store: a database with damaged pages fails the startup integrity check") {
    temp_dir dir;
    const auto file = dir / "orbitmesh.db";
    {
        auto s = open_store(dir);
        REQUIRE_FALSE(submit_and_wait(*s, store::test::events_batch("s", 1, 2000)));
    }
    const auto size = std::filesystem::file_size(file);
    REQUIRE(size > 16 * 4096);
    {
        // Scribble over the header of every b-tree page but the first (which holds the schema).
        std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
        for (std::uintmax_t offset = 4096; offset < size; offset += 4096) {
            f.seekp(static_cast<std::streamoff>(offset));
            f.write("\xff\xff\xff\xff\xff\xff\xff\xff", 8);
        }
    }
    const auto e = open_failure(dir);
    CHECK(e.kind() == core::error_kind::storage);
    CHECK_THAT(std::string(e.what()), Catch::Contains("is damaged") && Catch::Contains(file.string()));
}
