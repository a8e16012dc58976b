// Dispatch decisions through fakes at the hub's seams: retry backoff and the --balance policies.
#include "hub_test_support.hpp"

#include <map>

using namespace hub_test;

namespace {

/// Submits `n` jobs one after another, each run to success by whichever agent got it; returns
/// how many each agent ran, and the order of agents.
std::pair<std::map<std::string, int>, std::vector<std::string>> run_many(
    hub_fixture& f, const std::map<std::string, std::shared_ptr<recording_peer>>& peers, int n) {
    std::map<std::string, int> counts;
    std::vector<std::string> order;
    for (int i = 0; i < n; ++i) {
        const auto id = f.submit();
        const auto agent = f.job(id).agent_id;
        REQUIRE(peers.count(agent));
        f.run_ok(peers.at(agent), id);
        ++counts[agent];
        order.push_back(agent);
    }
    return {counts, order};
}

}  // namespace

TEST_CASE("hub: a failure with retries left waits out the backoff, doubling each retry") {
    hub_fixture f;
    f.start();
    auto a1 = f.connect("a1");
    auto spec = echo_spec();
    spec.retries.max = 2;
    spec.retries.backoff_ms = 1'000;
    spec.retries.max_delay_ms = 60'000;
    const auto id = f.submit(spec);
    auto fail = [&](int attempt) {
        f.send(a1, p::ack{id, attempt});
        f.send(a1, p::result{id, attempt, "failed", 1, nullptr, "exit 1"});
        f.settle();
    };
    fail(1);
    CHECK(f.job(id).state == core::job_state::pending);
    CHECK(f.job(id).retries_used == 1);
    CHECK(f.job(id).not_before_ms == f.clock.now_ms() + 1'000);
    f.advance(999);
    CHECK(f.job(id).state == core::job_state::pending);
    f.advance(1);
    CHECK(f.job(id).attempt == 2);
    fail(2);
    f.advance(1'999);
    CHECK(f.job(id).state == core::job_state::pending);
    f.advance(1);
    CHECK(f.job(id).attempt == 3);
    fail(3);
    CHECK(f.job(id).state == core::job_state::dead);  // retries spent
    CHECK(f.store.types(core::job_stream(id)).back() == "job.dead");
    CHECK(f.agent("a1").at("consecutive_failures") == 0);  // the job failed, not the agent
}

TEST_CASE("hub: --balance round-robin alternates between agents with free slots") {
    auto opts = test_options();
    opts.balance = engine::balance_policy::round_robin;
    hub_fixture f(opts);
    f.start();
    std::map<std::string, std::shared_ptr<recording_peer>> peers{{"a1", f.connect("a1", 8)}, {"a2", f.connect("a2", 8)}};
    auto [counts, order] = run_many(f, peers, 10);
    CHECK(counts["a1"] == 5);
    CHECK(counts["a2"] == 5);
    for (std::size_t i = 1; i < order.size(); ++i) CHECK(order[i] != order[i - 1]);
}

TEST_CASE("hub: --balance least-loaded prefers the agent with the smaller share of its slots in use") {
    hub_fixture f;
    f.start();
    auto big = f.connect("big", 10);
    auto small = f.connect("small", 2);
    std::vector<std::string> ids;
    for (int i = 0; i < 6; ++i) ids.push_back(f.submit());  // none finishes: the loads add up
    // small is half full after one job; big takes the rest until it is half full too.
    CHECK(assigned_ids(*big).size() == 5);
    CHECK(assigned_ids(*small).size() == 1);
}

TEST_CASE("hub: --balance random spreads jobs over every eligible agent") {
    auto opts = test_options();
    opts.balance = engine::balance_policy::random;
    hub_fixture f(opts);
    f.start();
    std::map<std::string, std::shared_ptr<recording_peer>> peers{
        {"a1", f.connect("a1", 8)}, {"a2", f.connect("a2", 8)}, {"a3", f.connect("a3", 8)}};
    auto [counts, order] = run_many(f, peers, 300);
    for (const auto& name : {"a1", "a2", "a3"}) {  // each expects 100; 50 is more than 7 standard deviations off
        CHECK(counts[name] > 50);
        CHECK(counts[name] < 150);
    }
}

TEST_CASE("hub: --balance weighted gives agents jobs in proportion to their weight tag") {
    auto opts = test_options();
    opts.balance = engine::balance_policy::weighted;
    hub_fixture f(opts);
    f.start();
    std::map<std::string, std::shared_ptr<recording_peer>> peers{
        {"heavy", f.connect("heavy", 8, {}, {{"weight", "3"}})}, {"light", f.connect("light", 8, {}, {{"weight", "1"}})}};
    auto [counts, order] = run_many(f, peers, 400);
    CHECK(counts["heavy"] > 240);  // expects 300 of 400, standard deviation under 9
    CHECK(counts["heavy"] < 360);
    CHECK(counts["light"] == 400 - counts["heavy"]);
}
