// The agent's outbox file as the agent uses it: results stored in batches, removed one by one,
// and results written by an older agent (one row each) kept across an upgrade.
#include <catch2/catch.hpp>

#include <SQLiteCpp/Database.h>

#include "agent_test_support.hpp"
#include "core/error.hpp"
#include "store/outbox.hpp"

using namespace agent_test;
using orbitmesh::store::outbox;

namespace {

outbox::entry result_of(const std::string& job_id, int attempt, const std::string& output = "out") {
    return {job_id, attempt,
            json{{"t", "result"}, {"job_id", job_id}, {"attempt", attempt}, {"status", "succeeded"},
                 {"exit_code", 0}, {"output", output}, {"error", ""}}};
}

std::vector<std::string> pending_keys(outbox& box) {
    std::vector<std::string> keys;
    for (const auto& e : box.pending()) keys.push_back(e.job_id + "#" + std::to_string(e.attempt));
    return keys;
}

void put_batch(outbox& box, const std::vector<outbox::entry>& batch) {
    std::vector<const outbox::entry*> ptrs;
    for (const auto& e : batch) ptrs.push_back(&e);
    box.begin_group();
    box.put_all(ptrs);
    box.commit_group();
}

}  // namespace

TEST_CASE("agent outbox: a batch is found result by result and leaves the file once all of it is removed") {
    temp_dir dir;
    const auto file = dir.path / "outbox.db";
    {
        auto box = outbox::open(file);
        put_batch(*box, {result_of("a", 1), result_of("b", 1), result_of("c", 2, std::string(300, 'x'))});
        put_batch(*box, {result_of("d", 1)});
        CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "b#1", "c#2", "d#1"});
        REQUIRE(box->get("c", 2));
        CHECK(box->get("c", 2)->result == result_of("c", 2, std::string(300, 'x')).result);
        CHECK_FALSE(box->get("c", 1));

        box->remove("b", 1);
        box->remove("b", 1);  // a duplicated result_ack is harmless
        CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "c#2", "d#1"});
        CHECK_FALSE(box->get("b", 1));
        box->remove("d", 1);
    }
    {
        // The rest of b's batch still waits, so b comes back after a restart (it is resent once
        // and acknowledged again as a duplicate); d's batch is gone for good.
        auto box = outbox::open(file);
        CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "b#1", "c#2"});
        box->remove("a", 1);
        box->remove("b", 1);
        box->remove("c", 2);
        CHECK(box->pending().empty());
    }
    auto box = outbox::open(file);
    CHECK(box->pending().empty());
}

TEST_CASE("agent outbox: a result stored again replaces the old one where it was") {
    temp_dir dir;
    const auto file = dir.path / "outbox.db";
    {
        auto box = outbox::open(file);
        put_batch(*box, {result_of("a", 1), result_of("b", 1)});
        put_batch(*box, {result_of("a", 1, "second"), result_of("c", 1)});
        CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "b#1", "c#1"});
        CHECK(box->get("a", 1)->result["output"] == "second");
    }
    auto box = outbox::open(file);
    CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "b#1", "c#1"});
    CHECK(box->get("a", 1)->result["output"] == "second");
}

TEST_CASE("agent outbox: a failed group leaves what was committed before it") {
    temp_dir dir;
    auto box = outbox::open(dir.path / "outbox.db");
    put_batch(*box, {result_of("a", 1), result_of("b", 1)});
    box->begin_group();
    const outbox::entry c = result_of("c", 1);
    const outbox::entry* one[] = {&c};
    box->put_all(one);
    box->remove("a", 1);
    box->rollback_group();
    CHECK(pending_keys(*box) == std::vector<std::string>{"a#1", "b#1"});
    box->remove("a", 1);
    box->remove("b", 1);
    CHECK(box->pending().empty());
}

TEST_CASE("agent outbox: results written by an older agent (one row each) survive the upgrade") {
    temp_dir dir;
    const auto file = dir.path / "outbox.db";
    const auto old_b = result_of("job-b", 3, "with \"quotes\" and ünïcode");
    {
        SQLite::Database db(file.string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        db.exec("PRAGMA journal_mode=WAL");
        db.exec("CREATE TABLE results(job_id TEXT NOT NULL, attempt INT NOT NULL, result TEXT NOT NULL,"
                " PRIMARY KEY(job_id, attempt))");
        SQLite::Statement insert(db, "INSERT INTO results VALUES(?1, ?2, ?3)");
        for (const auto& e : {result_of("job-z", 1), old_b}) {
            insert.bind(1, e.job_id);
            insert.bind(2, e.attempt);
            insert.bind(3, e.result.dump());
            insert.exec();
            insert.reset();
        }
        db.exec("PRAGMA user_version=1");
    }
    auto box = outbox::open(file);
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-z#1", "job-b#3"});  // first written first
    REQUIRE(box->get("job-b", 3));
    CHECK(box->get("job-b", 3)->result == old_b.result);
    box->remove("job-z", 1);
    put_batch(*box, {result_of("new", 1)});
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-b#3", "new#1"});
}

TEST_CASE("agent outbox: a second agent on the same data dir cannot open the outbox while the first runs") {
    temp_dir dir;
    auto first = outbox::open(dir.path / "outbox.db");
    put_batch(*first, {result_of("a", 1)});
    CHECK_THROWS_AS(outbox::open(dir.path / "outbox.db"), orbitmesh::core::error);
}
