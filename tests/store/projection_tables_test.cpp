// The projection tables of schema 2 (runs, idempotency keys, snapshots), the migration from a
// schema-1 store, and the in-place readers replay uses.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/error.hpp"
#include "fixtures.hpp"
#include "store/event_scan.hpp"
#include "store/projection_scan.hpp"
#include "store/schema.hpp"

using namespace orbitmesh;
using store::test::make_event;
using store::test::open_store;
using store::test::submit_and_wait;
using store::test::temp_dir;

namespace {

core::run_record make_run(const std::string& id, core::run_state state) {
    core::run_record r;
    r.id = id;
    r.workflow_id = "deploy";
    r.workflow_name = "Deploy";
    r.workflow_version = "3";
    r.idempotency_key = "rk-" + id;
    r.state = state;
    r.created_ms = 1'700'000'000'000;
    r.started_ms = 1'700'000'000'010;
    r.finished_ms = core::is_terminal(state) ? 1'700'000'000'900 : 0;
    r.version = 7;
    auto& s = r.steps["build"];
    s.path = s.id = "build";
    s.type = "job";
    s.state = core::step_state::succeeded;
    return r;
}

}  // namespace

TEST_CASE("store: run rows, idempotency keys and a snapshot commit with the events they describe") {
    temp_dir dir;
    auto s = open_store(dir);
    store::write_batch b;
    b.events = {make_event("run-r1", 1), make_event("run-r1", 2), make_event("job-j1", 1)};
    b.runs.emplace_back(make_run("r1", core::run_state::succeeded));
    b.keys.push_back({"job", "k1", "j1", 1'700'000'000'000});
    b.keys.push_back({"run", "k1", "r1", 1'700'000'000'001});
    b.snapshot = store::snapshot_blob{0, 1'700'000'000'002, 1, "\x81\xa1" "a\x01"};
    REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));

    auto run = s->load_run("r1");
    REQUIRE(run);
    CHECK((*run)["state"] == "succeeded");
    CHECK((*run)["workflow"]["id"] == "deploy");
    CHECK_FALSE(s->load_run("nope"));
    CHECK(s->count_runs().at("succeeded") == 1);
    auto snap = s->load_snapshot();
    REQUIRE(snap);
    CHECK(snap->seq == 3);  // stamped with the last event of its own transaction
    CHECK(snap->format == 1);
    CHECK(snap->data == std::string("\x81\xa1" "a\x01"));

    // a key reused later points at the newest job
    store::write_batch b2;
    b2.keys.push_back({"job", "k1", "j2", 1'700'000'100'000});
    REQUIRE_FALSE(submit_and_wait(*s, std::move(b2)));
    s->close();
    store::projection_scan scan(dir / "orbitmesh.db");
    std::vector<std::string> keys;
    scan.keys([&](const store::key_row_view& k) { keys.push_back(std::string(k.kind) + ":" + std::string(k.key) + "=" + std::string(k.id)); });
    CHECK(keys == std::vector<std::string>{"job:k1=j2", "run:k1=r1"});
    std::vector<std::string> runs;
    scan.runs([&](const store::run_row_view& r) {
        runs.push_back(std::string(r.id) + " " + std::string(r.state) + " v" + std::to_string(r.version));
        CHECK(r.idempotency_key == "rk-r1");
    });
    CHECK(runs == std::vector<std::string>{"r1 succeeded v7"});
}

TEST_CASE("store: only the newest two snapshots are kept") {
    temp_dir dir;
    auto s = open_store(dir);
    for (int i = 1; i <= 4; ++i) {
        store::write_batch b;
        b.events = {make_event("job-j", i)};
        b.snapshot = store::snapshot_blob{0, i, 1, "x"};
        REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
    }
    s->close();
    store::projection_scan scan(dir / "orbitmesh.db");
    auto metas = scan.snapshots();
    REQUIRE(metas.size() == 2);
    CHECK(metas[0].seq == 3);
    CHECK(metas[1].seq == 4);
    CHECK(scan.newest_snapshot()->seq == 4);
}

TEST_CASE("store: a schema-1 store migrates to schema 3 and keeps its rows; old job rows have no version, old events no hash") {
    temp_dir dir;
    const auto file = dir / "orbitmesh.db";
    {
        SQLite::Database db(file, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode=WAL");
        db.exec(std::string(store::event_store_migrations()[0]));
        db.exec("PRAGMA user_version=1");
        db.exec("INSERT INTO events(stream, version, type, data, time) VALUES('job-a', 1, 'job.submitted', x'80', 5)");
        db.exec("INSERT INTO jobs(id, state, record) VALUES('a', 'pending', '{\"id\":\"a\"}')");
    }
    auto s = open_store(dir);
    CHECK(s->last_seq() == 1);
    auto versions = s->load_job_versions();
    REQUIRE(versions.size() == 1);
    CHECK(versions[0] == std::pair<std::string, std::int64_t>{"a", -1});
    s->close();
    SQLite::Database db(file, SQLite::OPEN_READONLY);
    CHECK(db.execAndGet("PRAGMA user_version").getInt() == 3);
    CHECK(db.execAndGet("SELECT hash IS NULL FROM events WHERE seq = 1").getInt() == 1);
    CHECK(db.execAndGet("SELECT seq FROM log_chain_start").getInt64() == 2);  // the chain starts after the old events
}

TEST_CASE("event scan: ranges, one stream and a stream prefix are read in place in their order") {
    temp_dir dir;
    {
        auto s = open_store(dir);
        store::write_batch b;
        b.events = {make_event("workflow-w", 1), make_event("job-a", 1), make_event("job-b", 1), make_event("job-a", 2),
                    make_event("workflow-w", 2), make_event("workflow-x", 1)};
        REQUIRE_FALSE(submit_and_wait(*s, std::move(b)));
    }
    store::event_scan scan(dir / "orbitmesh.db");
    CHECK(scan.bounds().first_seq == 1);
    CHECK(scan.bounds().last_seq == 6);
    std::vector<std::int64_t> seqs;
    scan.range(1, 4, [&](const core::event_view& v) {
        seqs.push_back(v.seq);
        CHECK(core::json::from_msgpack(v.data.begin(), v.data.end())["version"] == v.version);
    });
    CHECK(seqs == std::vector<std::int64_t>{2, 3, 4});
    std::vector<std::string> seen;
    scan.stream("job-a", 100, [&](const core::event_view& v) { seen.push_back(std::string(v.stream) + "#" + std::to_string(v.version)); });
    CHECK(seen == std::vector<std::string>{"job-a#1", "job-a#2"});
    seen.clear();
    scan.stream("job-a", 3, [&](const core::event_view& v) { seen.push_back(std::to_string(v.seq)); });
    CHECK(seen == std::vector<std::string>{"2"});
    seen.clear();
    scan.streams_with_prefix("workflow-", [&](const core::event_view& v) { seen.push_back(std::string(v.stream) + "#" + std::to_string(v.version)); });
    CHECK(seen == std::vector<std::string>{"workflow-w#1", "workflow-w#2", "workflow-x#1"});
    CHECK(scan.last_seq_before_time(1'700'000'000'001) == 6);  // make_event stamps 1.7e12 + version: seqs 1, 2, 3, 6
    CHECK(scan.last_seq_before_time(1'700'000'000'000) == 0);
    CHECK(scan.last_seq_before_time(5) == 0);
}

TEST_CASE("event scan: a missing store is a usage error naming --data-dir") {
    temp_dir dir;
    try {
        store::event_scan scan(dir / "nope" / "orbitmesh.db");
        FAIL("opened a store that does not exist");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::usage);
        CHECK_THAT(e.what(), Catch::Contains("check --data-dir"));
    }
}
