// Hostile workflow files (SPEC §12): alias bombs, deep nesting, huge files and random damage
// get a clear error within bounded time and memory, never a crash. Also the load/check bench.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdio>
#include <random>

#include "core/dag.hpp"
#include "engine/workflow/loader.hpp"

using namespace orbitmesh;

namespace {

const std::string data = ORBITMESH_WORKFLOW_DATA;

std::string only_error(const engine::workflow_check& c) {
    REQUIRE(c.errors() == 1);
    return core::format(c.diagnostics.at(0));
}

}  // namespace

TEST_CASE("workflow limits: a billion-laughs alias bomb is refused") {
    auto c = engine::check_workflow_file(data + "/broken/alias_bomb.yaml");
    CHECK_THAT(only_error(c), Catch::Matchers::Contains("YAML aliases expand to more than 100000 values"));
}

TEST_CASE("workflow limits: a recursive alias is refused") {
    auto c = engine::check_workflow_text("a: &x [1, *x]\nsteps: []\n", "w.yaml");
    CHECK_THAT(only_error(c), Catch::Matchers::Contains("YAML syntax error") || Catch::Matchers::Contains("recursive alias"));
}

TEST_CASE("workflow limits: 10,000-deep nesting is refused before yaml-cpp recurses") {
    using Catch::Matchers::Contains;
    const std::string flow = "steps: " + std::string(10'000, '[') + std::string(10'000, ']') + "\n";
    CHECK_THAT(only_error(engine::check_workflow_text(flow, "flow.yaml")), Contains("flow.yaml:1: error: nesting is deeper than 256"));
    const std::string maps = "steps: " + std::string(10'000, '{') + "\n";
    CHECK_THAT(only_error(engine::check_workflow_text(maps, "maps.yaml")), Contains("nesting is deeper than 256"));
    std::string block;
    for (int i = 0; i < 1'000; ++i) block += std::string(static_cast<std::size_t>(i), ' ') + "k:\n";
    CHECK_THAT(only_error(engine::check_workflow_text(block, "block.yaml")), Contains("block.yaml:256: error: nesting is deeper"));
    std::string dashes = "steps:\n";
    for (int i = 0; i < 10'000; ++i) dashes += "- ";
    dashes += "x\n";
    CHECK_THAT(only_error(engine::check_workflow_text(dashes, "d.yaml")), Contains("nesting is deeper than 256"));
}

TEST_CASE("workflow limits: 10,000-deep JSON is refused by the SAX reader") {
    const std::string deep = "{\"steps\": " + std::string(10'000, '[') + std::string(10'000, ']') + "}";
    CHECK_THAT(only_error(engine::check_workflow_text(deep, "deep.json")), Catch::Matchers::Contains("nesting is deeper than 256"));
}

TEST_CASE("workflow limits: nesting within the limit still loads") {
    const std::string ok = "steps:\n  - id: a\n    command: echo\n    payload: " + std::string(100, '[') + std::string(100, ']') + "\n";
    CHECK(engine::check_workflow_text(ok, "w.yaml").ok());
}

TEST_CASE("workflow limits: size and node budgets give clear errors") {
    engine::load_options small;
    small.limits.max_bytes = 64;
    auto c = engine::check_workflow_text(std::string(100, '#'), "big.yaml", small);
    CHECK(only_error(c) == "big.yaml: error: workflow file is larger than 64 bytes (split it into sub-workflows)");
    small = {};
    small.limits.max_nodes = 50;
    std::string many = "steps:\n  - id: a\n    command: echo\n    payload: [";
    for (int i = 0; i < 100; ++i) many += "1,";
    many += "]\n";
    CHECK_THAT(only_error(engine::check_workflow_text(many, "w.yaml", small)), Catch::Matchers::Contains("more than 50 values"));
}

TEST_CASE("workflow limits: empty files, several documents and missing files are errors") {
    CHECK(only_error(engine::check_workflow_text("", "e.yaml")) == "e.yaml:1: error: file is empty (a workflow needs at least `steps:`)");
    CHECK(only_error(engine::check_workflow_text("  \n", "e.json")) == "e.json:1: error: file is empty (a workflow needs at least \"steps\")");
    CHECK_THAT(only_error(engine::check_workflow_text("steps: []\n---\nsteps: []\n", "two.yaml")),
               Catch::Matchers::Contains("more than one YAML document"));
    CHECK_THAT(only_error(engine::check_workflow_file(data + "/no-such-file.yaml")),
               Catch::Matchers::Contains("cannot open the workflow file: No such file or directory"));
    CHECK_THAT(only_error(engine::check_workflow_text("- just\n- a list\n", "l.yaml")),
               Catch::Matchers::Contains("the top level must be a map"));
}

TEST_CASE("workflow limits: 2,000 randomly damaged files never crash the loader") {
    auto original = engine::check_workflow_file(data + "/valid/release.yaml");
    REQUIRE(original.ok());
    std::FILE* f = std::fopen((data + "/valid/release.yaml").c_str(), "rb");
    REQUIRE(f != nullptr);
    std::string text(64 * 1024, '\0');
    text.resize(std::fread(text.data(), 1, text.size(), f));
    std::fclose(f);
    const char noise[] = "[]{}:-&*!|>'\"#\n \t,?%@`$";
    std::mt19937 rng(1234);
    for (int i = 0; i < 2'000; ++i) {
        std::string damaged = text;
        for (int k = 0; k < 1 + static_cast<int>(rng() % 8); ++k) {
            const std::size_t at = rng() % damaged.size();
            switch (rng() % 3) {
            case 0: damaged[at] = noise[rng() % (sizeof noise - 1)]; break;
            case 1: damaged.erase(at, 1 + rng() % 20); break;
            default: damaged.insert(at, 1, noise[rng() % (sizeof noise - 1)]); break;
            }
        }
        auto c = engine::check_workflow_text(damaged, "damaged.yaml");
        CHECK((c.ok() || c.errors() > 0));
    }
}

TEST_CASE("workflow bench: load and check a 10,000-step workflow", "[.bench]") {
    std::string yaml = "id: big\nsteps:\n";
    for (int i = 0; i < 10'000; ++i) {
        yaml += "  - id: step-" + std::to_string(i) + "\n    run: echo " + std::to_string(i) + "\n";
        if (i >= 7) {
            yaml += "    needs: [";
            for (int k = 1; k <= 3 && i - k * 7 >= 0; ++k) yaml += (k > 1 ? ", step-" : "step-") + std::to_string(i - k * 7);
            yaml += "]\n";
        }
    }
    auto t0 = std::chrono::steady_clock::now();
    auto c = engine::check_workflow_text(yaml, "big.yaml");
    auto t1 = std::chrono::steady_clock::now();
    REQUIRE(c.ok());
    auto diagnostics = engine::validate(c.workflow);
    auto t2 = std::chrono::steady_clock::now();
    std::vector<core::dag_node> nodes;
    for (const auto& s : c.workflow.steps) {
        core::dag_node n{s.id, {}};
        for (const auto& d : s.depends_on) n.needs.push_back(d);
        nodes.push_back(std::move(n));
    }
    auto t3 = std::chrono::steady_clock::now();
    auto report = core::check_dag(nodes);
    auto t4 = std::chrono::steady_clock::now();
    CHECK(diagnostics.empty());
    CHECK(report.order.size() == 10'000);
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::printf("{\"metric\":\"workflow_load_ms\",\"value\":%.2f,\"steps\":10000,\"bytes\":%zu,\"note\":\"yaml read + build + validate\"}\n",
                ms(t0, t1), yaml.size());
    std::printf("{\"metric\":\"dag_check_ms\",\"value\":%.3f,\"steps\":10000,\"note\":\"engine::validate on the loaded model\"}\n",
                ms(t1, t2));
    std::printf("{\"metric\":\"dag_core_check_ms\",\"value\":%.3f,\"steps\":10000,\"note\":\"core::check_dag alone\"}\n", ms(t3, t4));
    std::printf("10,000 steps: load %.1f ms, check %.2f ms (core DAG %.2f ms)\n", ms(t0, t1), ms(t1, t2), ms(t3, t4));
}
