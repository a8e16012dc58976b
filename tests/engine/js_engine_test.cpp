// The JavaScript sandbox with the real node found on this machine (scripts/install-deps.sh
// installs Debian's nodejs): ES2020 code, context in, value out, and every way out of it closed.
#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/error.hpp"
#include "engine/workflow/js_engine.hpp"

using namespace orbitmesh;
using core::json;

namespace {

std::shared_ptr<engine::js_engine> node() {
    auto e = engine::js_engine::locate();
    REQUIRE(e->available());  // a missing node is a broken install here, not a reason to skip
    return e;
}

engine::js_limits quick() {
    engine::js_limits l;
    l.timeout_ms = 1500;
    l.memory_mb = 64;
    return l;
}

}  // namespace

TEST_CASE("js engine: a script with ES2020 syntax reads the context and returns its value") {
    auto r = node()->run_script(R"(
        const results = context.metricsResults || [];
        const high = results.filter(r => r.result?.disk >= (context.input?.threshold ?? 80));
        console.log(`checked ${results.length}`, { high: high.length });
        return { high: high.map(h => h.agentId), count: results.length, joined: [1, 2].map(x => x * 2).join(',') };
    )",
                                json{{"metricsResults", {{{"agentId", "a"}, {"result", {{"disk", 91}}}}, {{"agentId", "b"}, {"result", {{"disk", 10}}}}}},
                                     {"input", json::object()}},
                                quick());
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.value == json{{"high", {"a"}}, {"count", 2}, {"joined", "2,4"}});
    REQUIRE(r.logs.size() == 1);
    CHECK(r.logs[0] == "checked 2 {\"high\":1}");
}

TEST_CASE("js engine: a script that returns nothing gives null; sloppy-mode names like eval work") {
    auto r = node()->run_script("const eval = context.x; console.log(eval);", json{{"x", 5}}, quick());
    INFO(r.error);
    REQUIRE(r.ok);
    CHECK(r.value.is_null());
    CHECK(r.logs == std::vector<std::string>{"5"});
}

TEST_CASE("js engine: a failing script names the error and its line") {
    auto r = node()->run_script("const a = 1;\nconst b = a.missing.deeper;\nreturn b;", json::object(), quick());
    CHECK_FALSE(r.ok);
    CHECK(r.line == 2);
    CHECK(r.error.find("TypeError") != std::string::npos);

    auto s = node()->run_script("const a = 1;\nlet = = 2;\n", json::object(), quick());
    CHECK_FALSE(s.ok);
    CHECK(s.line == 2);
    CHECK(s.error.find("SyntaxError") != std::string::npos);
}

TEST_CASE("js engine: require, process, eval and the host's Function are out of reach") {
    auto e = node();
    for (const char* code : {"return require('fs').readdirSync('/')", "return process.env",
                             "return this.constructor.constructor('return process')()",
                             "return ({}).constructor.constructor('return 1')()", "return eval('1 + 1')",
                             "return globalThis.process || globalThis.require || globalThis.module || 'none'"}) {
        auto r = e->run_script(code, json::object(), quick());
        INFO(code << " -> " << (r.ok ? r.value.dump() : r.error));
        if (r.ok) CHECK(r.value == "none");
        else CHECK((r.error.find("ReferenceError") != std::string::npos || r.error.find("EvalError") != std::string::npos));
    }
}

TEST_CASE("js engine: a script that loops forever is stopped at its time limit") {
    auto limits = quick();
    limits.timeout_ms = 300;
    auto start = std::chrono::steady_clock::now();
    auto r = node()->run_script("while (true) {}", json::object(), limits);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("time limit of 300ms") != std::string::npos);
    CHECK(took < std::chrono::seconds(5));
    auto p = node()->run_script("Promise.resolve().then(() => { for (;;) {} }); return 1;", json::object(), limits);
    CHECK_FALSE(p.ok);
    CHECK(p.error.find("time limit") != std::string::npos);
}

TEST_CASE("js engine: a script that allocates without bound is stopped at its memory limit") {
    auto limits = quick();
    limits.timeout_ms = 8000;
    auto heap = node()->run_script("const a = []; for (;;) a.push({ x: Math.random(), y: [1, 2, 3] });", json::object(), limits);
    CHECK_FALSE(heap.ok);
    CHECK(heap.error.find("memory limit of 64 MiB") != std::string::npos);
    auto buffers = node()->run_script("const b = []; for (;;) b.push(new ArrayBuffer(1e8));", json::object(), limits);
    CHECK_FALSE(buffers.ok);
    CHECK(buffers.error.find("RangeError") != std::string::npos);
}

TEST_CASE("js engine: an answer past the output bound is refused") {
    auto limits = quick();
    limits.max_output = 1000;
    auto r = node()->run_script("return 'x'.repeat(5000);", json::object(), limits);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("larger than 1000 bytes") != std::string::npos);
}

TEST_CASE("js engine: expressions see the context's keys as variables, each failing alone") {
    auto out = node()->evaluate({"deployReport.status === 'success' ? 'SUCCESS' : 'FAILED'",
                                 "xs.map(x => `- ${x.name}`).join('\\n')", "nope.x", "1 +", "context.deployReport.n + 1"},
                                json{{"deployReport", {{"status", "success"}, {"n", 41}}}, {"xs", {{{"name", "a"}}, {{"name", "b"}}}}},
                                quick());
    REQUIRE(out.size() == 5);
    CHECK(out[0].value == "SUCCESS");
    CHECK(out[1].value == "- a\n- b");
    CHECK_FALSE(out[2].ok);
    CHECK(out[2].error.find("nope is not defined") != std::string::npos);
    CHECK_FALSE(out[3].ok);
    CHECK(out[3].error.find("SyntaxError") != std::string::npos);
    CHECK(out[4].value == 42);
}

TEST_CASE("js engine: a cancelled call stops its process at once") {
    std::atomic<bool> cancel{false};
    std::thread stopper([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        cancel = true;
    });
    auto limits = quick();
    limits.timeout_ms = 20'000;
    auto start = std::chrono::steady_clock::now();
    auto r = node()->run_script("while (true) {}", json::object(), limits, &cancel);
    stopper.join();
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("shutting down") != std::string::npos);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
}

TEST_CASE("js engine: without node the error says how to get one") {
    auto missing = engine::js_engine::locate("/nonexistent/node");
    CHECK_FALSE(missing->available());
    CHECK(missing->describe().find("/nonexistent/node") != std::string::npos);
    CHECK_THROWS_WITH(missing->run_script("return 1", json::object(), quick()),
                      Catch::Contains("needs a JavaScript engine") && Catch::Contains("apt-get install nodejs"));
}
