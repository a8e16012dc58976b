#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <thread>

#include <SQLiteCpp/SQLiteCpp.h>

#include "core/error.hpp"
#include "fixtures.hpp"

using namespace orbitmesh;
using store::test::events_batch;
using store::test::make_event;
using store::test::open_store;
using store::test::read_events;
using store::test::submit_and_wait;
using store::test::temp_dir;

namespace {

/// Holds SQLite's write lock from a second connection, so the store's writer waits in
/// BEGIN IMMEDIATE (busy_timeout) while a test queues batches behind it: those then form one group.
class write_lock {
public:
    explicit write_lock(const std::filesystem::path& file) : db_(file, SQLite::OPEN_READWRITE) {
        db_.exec("BEGIN IMMEDIATE");
    }
    void release() { db_.exec("COMMIT"); }

private:
    SQLite::Database db_;
};

// Counts committed events as another process would see them, bypassing the store.
int committed_events(const std::filesystem::path& file, const std::string& like = "%") {
    SQLite::Database db(file, SQLite::OPEN_READONLY);
    SQLite::Statement q(db, "SELECT count(*) FROM events WHERE stream LIKE ?");
    q.bind(1, like);
    q.executeStep();
    return q.getColumn(0).getInt();
}

// Lets the writer take what is queued and block on the held lock.
void let_writer_block() { std::this_thread::sleep_for(std::chrono::milliseconds(50)); }

}  // namespace

TEST_CASE("event store: batches submitted from several threads all commit and every callback runs once") {
    temp_dir dir;
    auto s = open_store(dir);
    constexpr int threads = 4, batches = 200, per_batch = 5;
    std::atomic<int> ok{0}, failed{0};
    std::vector<std::thread> submitters;
    for (int t = 0; t < threads; ++t) {
        submitters.emplace_back([&, t] {
            for (int i = 0; i < batches; ++i) {
                s->submit(events_batch("stream-" + std::to_string(t), 1 + i * per_batch, per_batch),
                          [&](std::exception_ptr e) { ++(e ? failed : ok); });
            }
        });
    }
    for (auto& t : submitters) t.join();
    s->flush();

    CHECK(ok == threads * batches);
    CHECK(failed == 0);
    CHECK(s->last_seq() == threads * batches * per_batch);
    std::map<std::string, std::int64_t> last_version;
    std::int64_t expected_seq = 0;
    s->for_each_event([&](const core::event& e) {
        CHECK(e.seq == ++expected_seq);
        CHECK(e.version == last_version[e.stream] + 1);  // each stream in its submit order
        last_version[e.stream] = e.version;
    });
    CHECK(expected_seq == threads * batches * per_batch);
}

TEST_CASE("event store: batches queued while the writer is busy commit in one group and all callbacks run") {
    temp_dir dir;
    auto s = open_store(dir);
    const auto file = dir / "orbitmesh.db";
    write_lock lock(file);
    s->submit(events_batch("blocker", 1), nullptr);
    let_writer_block();

    constexpr int batches = 50;
    // Callbacks run on the writer thread: record there, assert here (Catch2 is not thread-safe).
    std::vector<int> visible_at_callback;
    std::atomic<int> ok{0};
    for (int i = 0; i < batches; ++i) {
        s->submit(events_batch("group-" + std::to_string(i), 1, 2), [&, i](std::exception_ptr e) {
            if (i == 0) visible_at_callback.push_back(committed_events(file, "group-%"));
            ok += e ? 0 : 1;
        });
    }
    lock.release();
    s->flush();

    CHECK(ok == batches);
    // When the first batch's callback ran, every batch of the group was already committed.
    CHECK(visible_at_callback == std::vector<int>{batches * 2});
}

TEST_CASE("event store: a group holds at most max_batch_events rows") {
    temp_dir dir;
    auto s = open_store(dir, store::durability::full, 10);
    const auto file = dir / "orbitmesh.db";
    write_lock lock(file);
    s->submit(events_batch("blocker", 1), nullptr);
    let_writer_block();

    std::vector<int> visible;
    for (int i = 0; i < 5; ++i) {
        s->submit(events_batch("group-" + std::to_string(i), 1, 4),
                  [&](std::exception_ptr) { visible.push_back(committed_events(file, "group-%")); });
    }
    lock.release();
    s->flush();
    // 4 events per batch, at most 10 per transaction: groups of two, two and one batch.
    CHECK(visible == std::vector<int>{8, 8, 16, 16, 20});
}

TEST_CASE("event store: a stream version conflict fails only its own batch, which is rolled back whole") {
    temp_dir dir;
    auto s = open_store(dir);
    const auto file = dir / "orbitmesh.db";
    REQUIRE_FALSE(submit_and_wait(*s, events_batch("taken", 1)));

    write_lock lock(file);
    s->submit(events_batch("blocker", 1), nullptr);
    let_writer_block();
    std::exception_ptr before, bad, after;
    s->submit(events_batch("before", 1, 2), [&](std::exception_ptr e) { before = e; });
    store::write_batch conflicting = events_batch("half", 1, 2);
    conflicting.events.push_back(make_event("taken", 1));  // already exists: UNIQUE(stream, version)
    core::job_record job;
    job.id = "job-of-the-bad-batch";
    job.spec.command = "echo";
    conflicting.jobs.emplace_back(job);
    s->submit(std::move(conflicting), [&](std::exception_ptr e) { bad = e; });
    s->submit(events_batch("after", 1, 2), [&](std::exception_ptr e) { after = e; });
    lock.release();
    s->flush();

    CHECK_FALSE(before);
    CHECK_FALSE(after);
    REQUIRE(bad);
    try {
        std::rethrow_exception(bad);
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::conflict);
        CHECK_THAT(std::string(e.what()), Catch::Contains("\"taken\" already has version 1"));
    }
    CHECK(read_events(*s, 0, "half").empty());  // nothing of the failed batch is half-written
    CHECK(s->load_jobs().empty());
    CHECK(read_events(*s, 0, "before").size() == 2);
    CHECK(read_events(*s, 0, "after").size() == 2);
}

TEST_CASE("event store: a conflicting batch committed alone writes nothing") {
    temp_dir dir;
    auto s = open_store(dir);
    REQUIRE_FALSE(submit_and_wait(*s, events_batch("s", 1, 3)));
    auto e = submit_and_wait(*s, events_batch("s", 3, 2));  // version 3 is taken, 4 would be new
    REQUIRE(e);
    CHECK_THROWS_AS(std::rethrow_exception(e), core::error);
    CHECK(s->last_seq() == 3);
    CHECK_FALSE(submit_and_wait(*s, events_batch("s", 4, 1)));
}

TEST_CASE("event store: flush returns once every earlier batch's callback has run") {
    temp_dir dir;
    auto s = open_store(dir, store::durability::normal);
    std::atomic<int> done{0};
    for (int i = 0; i < 300; ++i) s->submit(events_batch("s", i + 1), [&](std::exception_ptr) { ++done; });
    s->flush();
    CHECK(done == 300);
    s->flush();  // nothing pending: returns at once
}

TEST_CASE("event store: after close submits fail with a storage error and queued batches were committed") {
    temp_dir dir;
    auto s = open_store(dir);
    std::atomic<int> done{0};
    for (int i = 0; i < 100; ++i) s->submit(events_batch("s", i + 1), [&](std::exception_ptr e) { done += !e; });
    s->close();
    CHECK(done == 100);
    try {
        s->submit(events_batch("s", 101), nullptr);
        FAIL("submit after close did not throw");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::storage);
        CHECK_THAT(std::string(e.what()), Catch::Contains("is closed"));
    }
    CHECK_THROWS_AS(s->last_seq(), core::error);
    s->flush();
    s->close();
    CHECK(open_store(dir)->last_seq() == 100);
}

TEST_CASE("event store: a throwing callback does not stop later commits") {
    temp_dir dir;
    auto s = open_store(dir);
    s->submit(events_batch("s", 1), [](std::exception_ptr) { throw std::runtime_error("careless callback"); });
    CHECK_FALSE(submit_and_wait(*s, events_batch("s", 2)));
    CHECK(s->last_seq() == 2);
}

TEST_CASE("event store: flush from inside a commit callback is refused instead of deadlocking") {
    temp_dir dir;
    auto s = open_store(dir);
    std::promise<bool> refused;
    s->submit(events_batch("s", 1), [&](std::exception_ptr) {
        try {
            s->flush();
            refused.set_value(false);
        } catch (const core::error&) {
            refused.set_value(true);
        }
    });
    CHECK(refused.get_future().get());
}

TEST_CASE("event store: under a steady load the WAL is rewound instead of growing without bound") {
    temp_dir dir;
    const auto file = dir / "orbitmesh.db";
    auto o = store::test::sqlite_options(file, store::durability::normal);
    o.wal_restart_pages = 64;  // 256 KiB
    auto s = store::event_store::open(o);
    const std::string blob(2000, 'x');
    std::uintmax_t largest = 0;
    for (int i = 0; i < 1500; ++i) {  // 1,500 commits of ~8 KiB: over 12 MB through the WAL
        store::write_batch b;
        for (int k = 0; k < 4; ++k) b.events.push_back(make_event("wal-" + std::to_string(i), k + 1, {{"blob", blob}}));
        REQUIRE(submit_and_wait(*s, std::move(b)) == nullptr);
        largest = std::max(largest, std::filesystem::file_size(dir / "orbitmesh.db-wal"));
    }
    CHECK(committed_events(file, "wal-%") == 6000);
    // Bounded by the restart size plus a commit or two (measured: under 1 MiB); without the
    // rewind it would hold every frame written (~40 MB here).
    CHECK(largest < 1024 * 1024);
}
