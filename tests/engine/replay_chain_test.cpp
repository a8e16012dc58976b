// The tamper-evident log: the store chains every event's hash and checkpoints each commit group;
// replay verify recomputes both over any split of the log into ranges and names what differs.
#include <catch2/catch.hpp>

#include <SQLiteCpp/SQLiteCpp.h>

#include <future>
#include <string>

#include "../store/temp_dir.hpp"
#include "engine/replay/verify.hpp"
#include "store/event_hash.hpp"
#include "store/event_store.hpp"

using namespace orbitmesh;
using store::test::temp_dir;

namespace {

/// `batches` commits of five events each, over seven streams whose events interleave.
void write_log(const temp_dir& dir, int batches) {
    auto s = store::event_store::open({.path = dir / "orbitmesh.db"});
    std::int64_t versions[7] = {};
    int n = 0;
    for (int b = 0; b < batches; ++b) {
        store::write_batch batch;
        for (int i = 0; i < 5; ++i, ++n) {
            const int stream = (n * 3) % 7;
            core::event e;
            e.stream = "test-" + std::to_string(stream);
            e.version = ++versions[stream];
            e.type = "test.happened";
            e.data = {{"n", n}, {"text", "event " + std::to_string(n)}};
            e.time_ms = 1'700'000'000'000 + n;
            batch.events.push_back(std::move(e));
        }
        std::promise<std::exception_ptr> done;
        s->submit(std::move(batch), [&done](std::exception_ptr e) { done.set_value(e); });
        REQUIRE_FALSE(done.get_future().get());
    }
    s->close();
}

engine::replay::verify_report verify(const temp_dir& dir, std::int64_t range) {
    engine::replay::verify_options o;
    o.threads = 3;
    o.min_range = range;
    return engine::replay::verify_store(dir / "orbitmesh.db", o);
}

}  // namespace

TEST_CASE("chain hasher: an event's hash is SHA-256 over the documented layout") {
    store::chain_hasher h;
    const std::uint8_t data[] = {1, 2, 3};
    const auto a = h.event(store::zero_hash, 7, "job-a", 2, "job.ready", 1000, data);
    CHECK(store::to_hex(a) == "df1724eabb3fb6ab065f7e9e7a16d38734ed2e61dbd77458179d03c09fd4b965");
    CHECK(h.event(store::zero_hash, 7, "job-a", 2, "job.ready", 1000, data) == a);  // the context is reused cleanly
    CHECK(h.event(store::zero_hash, 8, "job-a", 2, "job.ready", 1000, data) != a);
    CHECK(h.event(store::zero_hash, 7, "job-", 2, "ajob.ready", 1000, data) != a);  // lengths keep fields apart
    CHECK(h.event(a, 7, "job-a", 2, "job.ready", 1000, data) != a);
    h.begin_checkpoint(store::zero_hash, 1, 2);
    h.add(store::zero_hash);
    CHECK(store::to_hex(h.finish()) == "5c7e956e520a88eb4d6132642abf95ae1730964041b931d8f030e15c2c5d9e6f");
}

TEST_CASE("chain: every event has a hash over its stream's previous one, every commit a chained checkpoint") {
    temp_dir dir;
    write_log(dir, 4);
    SQLite::Database db((dir / "orbitmesh.db").string());
    SQLite::Statement q(db, "SELECT seq, stream, version, type, data, time, hash FROM events ORDER BY seq");
    std::map<std::string, store::chain_hash> last;
    store::chain_hasher h;
    std::vector<store::chain_hash> all;
    while (q.executeStep()) {
        const auto stream = q.getColumn(1).getString();
        const auto data = q.getColumn(4);
        const auto expected = h.event(last.count(stream) ? last[stream] : store::zero_hash, q.getColumn(0).getInt64(), stream,
                                      q.getColumn(2).getInt64(), q.getColumn(3).getString(), q.getColumn(5).getInt64(),
                                      {static_cast<const std::uint8_t*>(data.getBlob()), static_cast<std::size_t>(data.getBytes())});
        REQUIRE(q.getColumn(6).getBytes() == 32);
        store::chain_hash stored;
        std::memcpy(stored.data(), q.getColumn(6).getBlob(), 32);
        CHECK(stored == expected);
        last[stream] = stored;
        all.push_back(stored);
    }
    REQUIRE(all.size() == 20);
    SQLite::Statement cps(db, "SELECT seq, first_seq, hash FROM log_chain ORDER BY seq");
    store::chain_hash prev = store::zero_hash;
    int groups = 0;
    while (cps.executeStep()) {
        const auto lastseq = cps.getColumn(0).getInt64(), first = cps.getColumn(1).getInt64();
        h.begin_checkpoint(prev, first, lastseq);
        for (auto s = first; s <= lastseq; ++s) h.add(all[static_cast<std::size_t>(s - 1)]);
        const auto expected = h.finish();
        CHECK(std::memcmp(expected.data(), cps.getColumn(2).getBlob(), 32) == 0);
        prev = expected;
        ++groups;
    }
    CHECK(groups >= 1);
    CHECK(db.execAndGet("SELECT seq FROM log_chain_start").getInt64() == 1);
}

TEST_CASE("chain verify: a clean log verifies over any split into ranges") {
    temp_dir dir;
    write_log(dir, 60);
    for (std::int64_t range : {1, 7, 50, 1000}) {
        INFO("ranges of " << range);
        const auto r = verify(dir, range);
        CHECK(r.ok());
        CHECK(r.chain.present);
        CHECK(r.chain.hashed == 300);
        CHECK(r.chain.mismatch_count == 0);
        REQUIRE(r.chain.head);
        CHECK(r.chain.head->last_seq == 300);
    }
}

TEST_CASE("chain verify: one event's data edited by hand is named by its seq, over any split") {
    temp_dir dir;
    write_log(dir, 60);
    {
        SQLite::Database db((dir / "orbitmesh.db").string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE events SET data = x'81a16e07' WHERE seq = 123");  // {"n": 7}
    }
    for (std::int64_t range : {1, 7, 50, 1000}) {
        INFO("ranges of " << range);
        const auto r = verify(dir, range);
        CHECK_FALSE(r.ok());
        REQUIRE(r.chain.mismatch_count == 1);
        CHECK(r.chain.mismatches[0].seq == 123);
        REQUIRE_FALSE(r.differences.empty());
        CHECK(r.differences[0].object.rfind("event 123 (test-", 0) == 0);
        CHECK(r.differences[0].field == "hash");
    }
}

TEST_CASE("chain verify: an edit with its hash recomputed breaks the stream's next event and the checkpoint") {
    temp_dir dir;
    write_log(dir, 60);
    {
        SQLite::Database db((dir / "orbitmesh.db").string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE events SET hash = zeroblob(32) WHERE seq = 200");  // as if recomputed: any other value
    }
    const auto r = verify(dir, 7);
    CHECK_FALSE(r.ok());
    REQUIRE(r.chain.mismatch_count >= 2);
    CHECK(r.chain.mismatches[0].seq == 200);  // its own hash no longer matches its contents
    bool checkpoint = false, next = false;
    for (const auto& m : r.chain.mismatches) {
        checkpoint = checkpoint || m.object.rfind("log_chain checkpoint", 0) == 0;
        next = next || (m.seq > 200 && m.object.rfind("event", 0) == 0);
    }
    CHECK(checkpoint);
    CHECK(next);
}

TEST_CASE("chain verify: removed checkpoints, a removed event and a removed hash are all reported") {
    temp_dir dir;
    write_log(dir, 20);
    SECTION("the newest checkpoints deleted: events are uncovered") {
        SQLite::Database db((dir / "orbitmesh.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DELETE FROM log_chain WHERE seq > 90");
    }
    SECTION("an event deleted: its checkpoint no longer matches") {
        SQLite::Database db((dir / "orbitmesh.db").string(), SQLite::OPEN_READWRITE);
        db.exec("DELETE FROM events WHERE seq = 50");
    }
    SECTION("a hash set to NULL after the chain began") {
        SQLite::Database db((dir / "orbitmesh.db").string(), SQLite::OPEN_READWRITE);
        db.exec("UPDATE events SET hash = NULL WHERE seq = 33");
    }
    for (std::int64_t range : {1, 30}) {
        INFO("ranges of " << range);
        const auto r = verify(dir, range);
        CHECK_FALSE(r.ok());
        CHECK(r.chain.mismatch_count >= 1);
    }
}
