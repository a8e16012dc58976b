// dag_bench: SPEC §11 "a loaded 10,000-step DAG checked in < 50 ms (loading the YAML reported
// apart)". Writes a layered workflow file (every step needs a few steps of the layer before it),
// loads it with the workflow loader, then times the check of the loaded model — engine::validate,
// which is what `workflow validate` and registration run after reading — as the median of N runs.
//
//   dag_bench [--steps N] [--width N] [--fan-in N] [--runs N] [--json FILE] [--keep]
//
// Prints one JSON object on stdout (or to --json FILE) and a one-line summary on stderr; exits 1
// when the generated workflow does not load or check clean, 2 on bad flags.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "core/dag.hpp"
#include "core/json.hpp"
#include "engine/workflow/loader.hpp"

using namespace orbitmesh;

namespace {

struct options {
    int steps = 10'000;
    int width = 100;  // steps per layer
    int fan_in = 3;   // dependencies of each step on the previous layer
    int runs = 20;
    int load_runs = 3;  // loading is ~10x slower than checking; its median needs fewer samples
    std::string json_file;
    bool keep = false;
};

[[noreturn]] void usage(const std::string& why) {
    std::fprintf(stderr,
                 "dag_bench: error: %s\n"
                 "usage: dag_bench [--steps N] [--width N] [--fan-in N] [--runs N] [--json FILE] [--keep]\n",
                 why.c_str());
    std::exit(2);
}

int positive(const char* flag, const char* value) {
    char* end = nullptr;
    long v = std::strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < 1 || v > 10'000'000)
        usage(std::string(flag) + " needs a positive whole number, got \"" + value + "\"");
    return static_cast<int>(v);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> const char* {
            if (i + 1 >= argc) usage(a + " needs a value");
            return argv[++i];
        };
        if (a == "--steps") o.steps = positive("--steps", value());
        else if (a == "--width") o.width = positive("--width", value());
        else if (a == "--fan-in") o.fan_in = positive("--fan-in", value());
        else if (a == "--runs") o.runs = positive("--runs", value());
        else if (a == "--json") o.json_file = value();
        else if (a == "--keep") o.keep = true;
        else usage("unknown flag " + a);
    }
    o.width = std::min(o.width, o.steps);
    o.fan_in = std::min(o.fan_in, o.width);
    return o;
}

std::string step_id(int i) { return "s" + std::to_string(i); }

// Layer L holds steps [L*width, (L+1)*width); step k of it needs steps k, k+1, … (mod width) of
// layer L-1, so every layer is fully wired to the one before and ids stay short like real ones.
std::string layered_workflow(const options& o) {
    std::string y = "id: dag-bench\nname: DAG check benchmark\nsteps:\n";
    y.reserve(static_cast<std::size_t>(o.steps) * 80);
    for (int i = 0; i < o.steps; ++i) {
        const int layer = i / o.width, k = i % o.width;
        y += "  - id: " + step_id(i) + "\n    run: echo " + std::to_string(i) + "\n";
        if (layer == 0) continue;
        y += "    depends_on: [";
        const int prev = (layer - 1) * o.width;
        for (int d = 0; d < o.fan_in; ++d) y += (d ? ", " : "") + step_id(prev + (k + d) % o.width);
        y += "]\n";
    }
    return y;
}

std::filesystem::path make_temp_dir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "orbitmesh-dag-bench-XXXXXX").string();
    if (!mkdtemp(tmpl.data())) usage("cannot create a temp dir in " + std::filesystem::temp_directory_path().string());
    return tmpl;
}

double median_ms(int runs, const std::function<void()>& fn) {
    std::vector<double> ms;
    for (int i = 0; i < runs; ++i) {
        auto t0 = std::chrono::steady_clock::now();
        fn();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms.size() % 2 ? ms[ms.size() / 2] : (ms[ms.size() / 2 - 1] + ms[ms.size() / 2]) / 2;
}

double round3(double v) { return static_cast<double>(static_cast<long long>(v * 1000 + 0.5)) / 1000; }

nlohmann::ordered_json machine() {
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
    return {{"cores", sysconf(_SC_NPROCESSORS_ONLN)}, {"mem", pages > 0 && page > 0 ? pages * page : 0}};
}

}  // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    const auto dir = make_temp_dir();
    const auto file = dir / "dag-bench.yaml";
    const std::string yaml = layered_workflow(o);
    std::ofstream(file, std::ios::binary) << yaml;

    // Load (read + YAML + build + validate), reported apart; yaml-cpp alone for comparison.
    core::workflow wf;
    const double load_ms = median_ms(o.load_runs, [&] { wf = engine::load_workflow_file(file.string()); });
    const double yaml_ms = median_ms(o.load_runs, [&] { (void)YAML::Load(yaml); });
    if (static_cast<int>(wf.steps.size()) != o.steps) {
        std::fprintf(stderr, "dag_bench: error: loaded %zu steps, wrote %d\n", wf.steps.size(), o.steps);
        return 1;
    }

    // The check: the whole-model validation of the loaded workflow (ids, dependencies, cycles,
    // references), and core::check_dag alone on the same steps.
    std::size_t problems = 0;
    const double check_ms = median_ms(o.runs, [&] { problems = engine::validate(wf).size(); });
    std::vector<core::dag_node> nodes;
    for (const auto& s : wf.steps) {
        core::dag_node n{s.id, {}};
        for (const auto& d : s.depends_on) n.needs.push_back(d);
        nodes.push_back(std::move(n));
    }
    std::size_t ordered = 0;
    const double core_ms = median_ms(o.runs, [&] { ordered = core::check_dag(nodes).order.size(); });
    if (problems != 0 || ordered != wf.steps.size()) {
        std::fprintf(stderr, "dag_bench: error: the generated workflow did not check clean (%zu problems, %zu ordered)\n",
                     problems, ordered);
        return 1;
    }

    nlohmann::ordered_json out{{"system", "orbitmesh"},
                   {"name", "dag_check"},
                   {"metric", "dag_check_ms"},
                   {"value", round3(check_ms)},
                   {"unit", "ms"},
                   {"config", {{"steps", o.steps}, {"width", o.width}, {"fan_in", o.fan_in}, {"runs", o.runs}}},
                   {"machine", machine()},
                   {"commit", ORBITMESH_COMMIT},
                   {"extra", {{"load_ms", round3(load_ms)},
                              {"yaml_parse_ms", round3(yaml_ms)},
                              {"core_check_dag_ms", round3(core_ms)},
                              {"edges", (o.steps - o.width) * o.fan_in},
                              {"file_bytes", yaml.size()},
                              {"target_ms", 50}}}};
    const std::string text = out.dump() + "\n";
    if (o.json_file.empty()) std::fwrite(text.data(), 1, text.size(), stdout);
    else std::ofstream(o.json_file) << text;
    std::fprintf(stderr,
                 "dag_check: %d steps (%d layers of %d, %d deps each): check %.2f ms, median of %d (target < 50 ms; "
                 "core::check_dag %.2f ms); load %.1f ms (yaml-cpp alone %.1f ms)\n",
                 o.steps, (o.steps + o.width - 1) / o.width, o.width, o.fan_in, check_ms, o.runs, core_ms, load_ms, yaml_ms);
    if (o.keep) std::fprintf(stderr, "dag_bench: kept %s\n", file.c_str());
    else std::filesystem::remove_all(dir);
    return 0;
}
