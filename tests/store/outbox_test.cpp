#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "core/error.hpp"
#include "store/outbox.hpp"
#include "temp_dir.hpp"

using namespace orbitmesh;
using store::outbox;
using store::test::temp_dir;

namespace {

outbox::entry result_of(const std::string& job_id, int attempt, const std::string& status = "succeeded") {
    return {job_id, attempt, {{"t", "result"}, {"job_id", job_id}, {"attempt", attempt}, {"status", status},
                              {"exit_code", 0}, {"output", {{"lines", {"a", "b"}}, {"ratio", 0.25}}}}};
}

std::vector<std::string> pending_keys(outbox& box) {
    std::vector<std::string> keys;
    for (const auto& e : box.pending()) keys.push_back(e.job_id + "#" + std::to_string(e.attempt));
    return keys;
}

}  // namespace

TEST_CASE("outbox: a result put is found by job and attempt until it is removed") {
    temp_dir dir;
    auto box = outbox::open(dir / "agent" / "outbox.db");
    box->put(result_of("job-1", 1));

    const auto found = box->get("job-1", 1);
    REQUIRE(found);
    CHECK(found->job_id == "job-1");
    CHECK(found->attempt == 1);
    CHECK(found->result == result_of("job-1", 1).result);
    CHECK_FALSE(box->get("job-1", 2));  // another attempt is another result
    CHECK_FALSE(box->get("job-2", 1));

    box->remove("job-1", 1);
    CHECK_FALSE(box->get("job-1", 1));
    CHECK(box->pending().empty());
    box->remove("job-1", 1);  // removing twice (a duplicated result_ack) is harmless
}

TEST_CASE("outbox: pending lists results in the order they were first written, replaced ones keep their place") {
    temp_dir dir;
    auto box = outbox::open(dir / "outbox.db");
    box->put(result_of("job-b", 1));
    box->put(result_of("job-a", 1));
    box->put(result_of("job-b", 2));
    box->put(result_of("job-a", 1, "failed"));  // replaced: same key, new body
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-b#1", "job-a#1", "job-b#2"});
    CHECK(box->get("job-a", 1)->result["status"] == "failed");

    box->remove("job-b", 2);
    box->put(result_of("job-c", 1));
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-b#1", "job-a#1", "job-c#1"});
}

TEST_CASE("outbox: results survive closing and reopening the file") {
    temp_dir dir;
    const auto file = dir / "outbox.db";
    {
        auto box = outbox::open(file);
        box->put(result_of("job-1", 1));
        box->put(result_of("job-2", 3));
        box->remove("job-1", 1);
    }
    auto box = outbox::open(file);
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-2#3"});
    CHECK(box->get("job-2", 3)->result == result_of("job-2", 3).result);
}

TEST_CASE("outbox: a damaged file is refused with a storage error naming it") {
    temp_dir dir;
    const auto file = dir / "outbox.db";
    {
        std::ofstream garbage(file, std::ios::binary);
        for (int i = 0; i < 4096; ++i) garbage.put(static_cast<char>(i * 31 + 7));
    }
    try {
        outbox::open(file);
        FAIL("opening a damaged outbox did not throw");
    } catch (const core::error& e) {
        CHECK(e.kind() == core::error_kind::storage);
        CHECK_THAT(std::string(e.what()), Catch::Contains(file.string()) && Catch::Contains("is damaged"));
    }
}

TEST_CASE("outbox: writes grouped in one transaction are kept after commit and dropped after rollback") {
    temp_dir dir;
    {
        auto box = outbox::open(dir / "outbox.db");
        box->begin_group();
        box->put(result_of("job-1", 1));
        box->put(result_of("job-2", 1));
        box->commit_group();
        box->begin_group();
        box->put(result_of("job-3", 1));
        box->remove("job-1", 1);
        box->rollback_group();
    }
    auto box = outbox::open(dir / "outbox.db");
    CHECK(pending_keys(*box) == std::vector<std::string>{"job-1#1", "job-2#1"});
}
