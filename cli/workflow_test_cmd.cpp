// `orbitmesh workflow test FILE [--cases CASES.yaml]`: the workflow on the real runner with every
// job answered by a mock from the case file; no hub, agent or process (docs/workflow-testing.md).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "cli/output.hpp"
#include "core/duration.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"
#include "engine/workflow/case_runner.hpp"
#include "engine/workflow/workflow_cases.hpp"

namespace orbitmesh::cli {

namespace {

struct test_flags {
    std::string file;
    std::string cases;
    std::string only;  // --case NAME
};

std::string read_workflow(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw core::error(core::error_kind::usage, "cannot read workflow file " + file + " (check the path)");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

core::json case_json(const engine::case_result& r) {
    core::json steps = core::json::object();
    std::function<void(const core::json&)> walk = [&](const core::json& list) {
        for (const auto& s : list) {
            steps[s.value("path", std::string{})] = s.value("state", std::string{});
            for (const char* nested : {"steps", "children", "iterations"})
                if (s.contains(nested) && s[nested].is_array()) walk(s[nested]);
        }
    };
    walk(r.run.run.value("steps", core::json::array()));
    core::json comps = core::json::array();
    for (const auto& c : r.run.run.value("compensations", core::json::array())) comps.push_back(c.value("step", std::string{}));
    core::json jobs = core::json::array();
    for (const auto& c : r.run.calls)
        jobs.push_back({{"step", c.path}, {"attempt", c.attempt}, {"compensation", c.compensation}, {"at_ms", c.at_ms}, {"mocked", c.mocked}});
    return {{"case", r.name},         {"ok", r.ok()},   {"failures", r.failures}, {"outcome", r.run.run.value("state", std::string{})},
            {"steps", std::move(steps)}, {"compensations", std::move(comps)}, {"jobs", std::move(jobs)},
            {"virtual_ms", r.run.virtual_ms}};
}

void print_case_table(const engine::case_result& r) {
    std::cout << (r.ok() ? "PASS " : "FAIL ") << r.name << " (" << r.run.run.value("state", std::string{"no run"}) << ", "
              << r.run.calls.size() << " mocked job" << (r.run.calls.size() == 1 ? "" : "s") << ", "
              << core::format_duration(r.run.virtual_ms) << " virtual)\n";
    for (const auto& f : r.failures) std::cout << "  " << f << "\n";
}

int run_tests(const test_flags& f, const global_options& g) {
    check_format(g.output);
    const auto source = read_workflow(f.file);
    const auto cases_path = f.cases.empty() ? engine::default_case_file(f.file) : f.cases;
    if (cases_path.empty())
        throw core::error(core::error_kind::usage, "workflow test " + f.file +
                                                       ": no case file (give --cases FILE, or put STEM.cases.yaml beside the workflow)");
    const auto cases = engine::load_case_file(cases_path);
    std::size_t passed = 0, failed = 0;
    core::json all = core::json::array();
    bool matched = false;
    for (const auto& c : cases.cases) {
        if (!f.only.empty() && c.name != f.only) continue;
        matched = true;
        const auto r = engine::run_case(source, f.file, c);
        (r.ok() ? passed : failed) += 1;
        auto j = case_json(r);
        if (g.output == "ndjson") {
            for (auto e : r.run.events) {
                e["case"] = c.name;
                print_json(e, true);
            }
            j["type"] = "case.finished";
            print_json(j, true);
        } else if (g.output == "json") {
            all.push_back(std::move(j));
        } else if (!g.quiet || !r.ok()) {
            print_case_table(r);
        }
    }
    if (!matched) throw core::error(core::error_kind::usage, "workflow test: no case named \"" + f.only + "\" in " + cases_path);
    const core::json total{{"file", f.file}, {"cases_file", cases_path}, {"passed", passed}, {"failed", failed}};
    if (g.output == "json") {
        auto out = total;
        out["cases"] = std::move(all);
        print_json(out, false);
    } else if (g.output == "ndjson") {
        auto out = total;
        out["type"] = "test.finished";
        print_json(out, true);
    } else if (!g.quiet) {
        std::cout << passed + failed << " case" << (passed + failed == 1 ? "" : "s") << ": " << passed << " passed, " << failed << " failed\n";
    }
    if (failed == 0) return core::exit_ok;
    const std::string line = "orbitmesh: error: workflow test " + f.file + ": " + std::to_string(failed) + " of " +
                             std::to_string(passed + failed) + " cases failed (their expectations are listed above)\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    return core::exit_failed;
}

}  // namespace

void add_workflow_test_command(CLI::App& app, command_context& ctx) {
    CLI::App* wf = app.get_subcommand("workflow");
    auto flags = std::make_shared<test_flags>();
    auto* sub = wf->add_subcommand("test",
                                   "Run a workflow on the real engine with every job step answered by a mock from a case\n"
                                   "file, and check each case's expectations; no server, agent or process is started.\n"
                                   "Exit 0 when every case passes, 1 when one fails, 2 on a bad workflow or case file.");
    sub->add_option("file", flags->file, "The workflow file (YAML or JSON)")->required()->type_name("FILE");
    sub->add_option("--cases", flags->cases, "The case file (default: STEM.cases.yaml or cases/STEM.yaml beside FILE)")
        ->type_name("CASES.yaml");
    sub->add_option("--case", flags->only, "Run only the case with this name")->type_name("NAME");
    sub->add_option("-o,--output", ctx.global.output, "table, json (one report) or ndjson (each case's run events, as run prints them)")
        ->type_name("FORMAT");
    sub->add_flag("-q,--quiet", ctx.global.quiet, "Print only failing cases");
    sub->callback([&ctx, flags] { ctx.run = [&ctx, flags] { return run_tests(*flags, ctx.global); }; });
}

}  // namespace orbitmesh::cli
