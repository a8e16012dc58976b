#include <catch2/catch.hpp>

#include "engine/hub/dispatcher.hpp"

using namespace orbitmesh;
using engine::agent_view;
using engine::dispatcher;

namespace {

core::job_record job(const std::string& id, int priority = 0) {
    core::job_record j;
    j.id = id;
    j.spec.command = "echo";
    j.spec.priority = priority;
    return j;
}

struct fixture {
    std::map<std::string, core::job_record> jobs;
    std::vector<core::agent_record> records;
    std::set<std::string> handlers{"echo", "shell"};
    dispatcher d;

    void add(core::job_record j) {
        d.enqueue(j);
        jobs[j.id] = std::move(j);
    }
    std::vector<engine::assignment_choice> run(std::vector<agent_view>& views, std::int64_t now = 0) {
        return d.match(
            views, now, [&](const std::string& id) { return &jobs.at(id); },
            [](const std::string&, const std::string&) { return false; });
    }
    core::agent_record& agent(const std::string& id, int concurrency) {
        core::agent_record a;
        a.id = id;
        a.name = id + "-name";
        a.concurrency = concurrency;
        records.push_back(a);
        return records.back();
    }
};

}  // namespace

TEST_CASE("dispatcher: higher priority first, FIFO within a priority") {
    fixture f;
    f.add(job("01-low", 0));
    f.add(job("02-high", 5));
    f.add(job("03-low", 0));
    f.agent("a", 3);
    std::vector<agent_view> views{{&f.records[0], &f.handlers, 0}};
    auto out = f.run(views);
    REQUIRE(out.size() == 3);
    CHECK(out[0].job_id == "02-high");
    CHECK(out[1].job_id == "01-low");
    CHECK(out[2].job_id == "03-low");
    CHECK(f.d.size() == 0);
}

TEST_CASE("dispatcher: slots bound assignments and least-loaded spreads work") {
    fixture f;
    for (int i = 0; i < 10; ++i) f.add(job("j" + std::to_string(10 + i)));
    f.records.reserve(2);
    f.agent("a", 2);
    f.agent("b", 2);
    std::vector<agent_view> views{{&f.records[0], &f.handlers, 0}, {&f.records[1], &f.handlers, 0}};
    auto out = f.run(views);
    REQUIRE(out.size() == 4);
    int on_a = 0;
    for (auto& c : out) on_a += c.agent_id == "a";
    CHECK(on_a == 2);
    CHECK(f.d.size() == 6);
}

TEST_CASE("dispatcher: a job nobody can take stays queued and does not block the others") {
    fixture f;
    auto j = job("01-gpu");
    j.spec.target.capabilities = {"gpu"};
    f.add(j);
    f.add(job("02-any"));
    f.agent("a", 4);
    std::vector<agent_view> views{{&f.records[0], &f.handlers, 0}};
    auto out = f.run(views);
    REQUIRE(out.size() == 1);
    CHECK(out[0].job_id == "02-any");
    CHECK(f.d.contains("01-gpu"));
    f.records[0].capabilities = {"gpu"};
    out = f.run(views);
    REQUIRE(out.size() == 1);
    CHECK(out[0].job_id == "01-gpu");
}

TEST_CASE("dispatcher: targeting by agent name, tags and handler") {
    core::agent_record a;
    a.id = "id-1";
    a.name = "alpha";
    a.tags = {{"zone", "a"}};
    std::set<std::string> handlers{"echo"};
    agent_view v{&a, &handlers, 0};
    core::job_spec s;
    s.command = "echo";
    CHECK(dispatcher::can_run(s, v));
    s.target.agent = "alpha";
    CHECK(dispatcher::can_run(s, v));
    s.target.agent = "beta";
    CHECK_FALSE(dispatcher::can_run(s, v));
    s.target.agent = "al*";  // a name glob (SPEC §4, the original's pattern:)
    CHECK(dispatcher::can_run(s, v));
    s.target.agent = "b?ta";
    CHECK_FALSE(dispatcher::can_run(s, v));
    s.target.agent.clear();
    s.target.tags = {{"zone", "b"}};
    CHECK_FALSE(dispatcher::can_run(s, v));
    s.target.tags = {{"zone", "a"}};
    s.command = "shell";
    CHECK_FALSE(dispatcher::can_run(s, v));
}

TEST_CASE("dispatcher: a job in retry backoff waits until its not-before time") {
    fixture f;
    auto j = job("j1");
    j.not_before_ms = 1000;
    f.add(j);
    f.agent("a", 1);
    std::vector<agent_view> views{{&f.records[0], &f.handlers, 0}};
    CHECK(f.run(views, 999).empty());
    CHECK(f.run(views, 1000).size() == 1);
}
