#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>

#include "core/dag.hpp"
#include "core/workflow_suggest.hpp"

using namespace orbitmesh::core;

namespace {

struct graph {
    std::vector<std::string> ids;
    std::vector<std::vector<std::string>> needs;

    std::vector<dag_node> nodes() const {
        std::vector<dag_node> out;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            dag_node n{ids[i], {}};
            for (const auto& d : needs[i]) n.needs.push_back(d);
            out.push_back(std::move(n));
        }
        return out;
    }
    void add(std::string id, std::vector<std::string> deps = {}) {
        ids.push_back(std::move(id));
        needs.push_back(std::move(deps));
    }
};

}  // namespace

TEST_CASE("dag: a valid graph gets a topological order that follows the file on ties") {
    graph g;
    g.add("deploy", {"build", "test"});
    g.add("build");
    g.add("test", {"build"});
    g.add("lint");
    auto r = check_dag(g.nodes());
    CHECK(r.ok());
    CHECK(r.order == std::vector<std::size_t>{1, 2, 0, 3});
}

TEST_CASE("dag: an unknown dependency gets a did-you-mean") {
    graph g;
    g.add("build");
    g.add("deploy", {"biuld", "zzz"});
    auto r = check_dag(g.nodes());
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].type == dag_problem::kind::unknown_dependency);
    CHECK(r.problems[0].node == 1);
    CHECK(r.problems[0].dependency == "biuld");
    CHECK(r.problems[0].suggestion == "build");
    CHECK(r.problems[1].suggestion.empty());
    CHECK(r.order.size() == 2);
}

TEST_CASE("dag: duplicate ids and self dependencies are reported") {
    graph g;
    g.add("a");
    g.add("b", {"b"});
    g.add("a");
    auto r = check_dag(g.nodes());
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].type == dag_problem::kind::duplicate_id);
    CHECK(r.problems[0].node == 2);
    CHECK(r.problems[0].first == 0);
    CHECK(r.problems[1].type == dag_problem::kind::self_dependency);
}

TEST_CASE("dag: a cycle is reported with its path") {
    graph g;
    g.add("a", {"c"});
    g.add("b", {"a"});
    g.add("c", {"b"});
    g.add("d", {"a"});
    auto r = check_dag(g.nodes());
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].type == dag_problem::kind::cycle);
    CHECK(format_cycle(r.problems[0].cycle) == "a -> c -> b -> a");
    CHECK(r.order.empty());
}

TEST_CASE("dag: two separate cycles are both reported") {
    graph g;
    g.add("x", {"y"});
    g.add("y", {"x"});
    g.add("p", {"q"});
    g.add("q", {"r"});
    g.add("r", {"p"});
    auto r = check_dag(g.nodes());
    REQUIRE(r.problems.size() == 2);
    std::vector<std::string> cycles{format_cycle(r.problems[0].cycle), format_cycle(r.problems[1].cycle)};
    std::sort(cycles.begin(), cycles.end());
    CHECK(cycles == std::vector<std::string>{"p -> q -> r -> p", "x -> y -> x"});
}

TEST_CASE("dag: a 10,000-long chain and a 10,000-long cycle need no deep recursion") {
    graph chain;
    for (int i = 0; i < 10'000; ++i) chain.add("s" + std::to_string(i), i ? std::vector<std::string>{"s" + std::to_string(i - 1)} : std::vector<std::string>{});
    auto r = check_dag(chain.nodes());
    CHECK(r.ok());
    CHECK(r.order.size() == 10'000);
    chain.needs[0] = {"s9999"};
    auto c = check_dag(chain.nodes());
    REQUIRE(c.problems.size() == 1);
    CHECK(c.problems[0].cycle.size() == 10'001);
}

TEST_CASE("suggest: edit distance counts a swap of neighbours as one edit") {
    CHECK(edit_distance("build", "biuld", 5) == 1);
    CHECK(edit_distance("kitten", "sitting", 5) == 3);
    CHECK(edit_distance("abc", "abcdefgh", 2) == 3);
    CHECK(closest_name("deplyo", {"build", "deploy", "test"}) == std::optional<std::string>("deploy"));
    CHECK_FALSE(closest_name("x", {"build", "deploy"}));
}

TEST_CASE("dag: checking a 10,000-step graph", "[.bench]") {
    graph g;
    for (int i = 0; i < 10'000; ++i) {
        std::vector<std::string> deps;
        for (int k = 1; k <= 3 && i - k * 7 >= 0; ++k) deps.push_back("step-" + std::to_string(i - k * 7));
        g.add("step-" + std::to_string(i), std::move(deps));
    }
    const auto nodes = g.nodes();
    const auto start = std::chrono::steady_clock::now();
    auto r = check_dag(nodes);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    CHECK(r.ok());
    std::printf("{\"metric\":\"dag_check_ms\",\"value\":%.3f,\"steps\":10000,\"source\":\"core graph\"}\n", ms);
    std::printf("dag check of 10,000 steps (core only): %.3f ms\n", ms);
}
