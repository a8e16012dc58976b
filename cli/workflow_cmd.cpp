// `orbitmesh workflow …`: for now `workflow validate FILE...`, which needs no server (SPEC §1, §4).
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/command.hpp"
#include "core/exit_code.hpp"
#include "core/workflow_diagnostic.hpp"
#include "engine/workflow/javascript_review.hpp"
#include "engine/workflow/loader.hpp"

namespace orbitmesh::cli {

namespace {

struct validate_options {
    std::vector<std::string> files;
    bool strict = false;  // warnings fail too
};

std::string plural(std::size_t n, const char* word) {
    return std::to_string(n) + " " + word + (n == 1 ? "" : "s");
}

// `release.yaml: ok, 14 steps` / `broken.yaml: 2 errors, 1 warning`.
std::string summary(const std::string& file, const engine::workflow_check& c) {
    std::string line = file + ": ";
    if (c.ok()) {
        line += "ok, " + plural(core::count_steps(c.workflow.steps), "step");
        if (c.warnings() > 0) line += ", " + plural(c.warnings(), "warning");
        return line;
    }
    line += plural(c.errors(), "error");
    if (c.warnings() > 0) line += ", " + plural(c.warnings(), "warning");
    return line;
}

int run_validate(const validate_options& opts, const global_options& global) {
    const bool as_json = global.output == "json";
    core::json all = core::json::array();
    std::size_t failures = 0;
    auto js = engine::js_engine::locate();
    for (const auto& file : opts.files) {
        engine::workflow_check c = engine::check_workflow_file(file);
        const auto notes = engine::review_javascript(c, *js);
        for (const auto& d : c.diagnostics) {
            if (as_json) all.push_back(core::to_json(d));
            else std::cerr << core::format(d) << '\n';
        }
        for (const auto& n : notes) {  // which engine evaluates what (the original format)
            if (as_json) all.push_back({{"file", file}, {"line", n.line}, {"severity", "note"}, {"message", n.message}});
            else if (!global.quiet) std::cerr << file << (n.line > 0 ? ":" + std::to_string(n.line) : "") << ": note: " << n.message << '\n';
        }
        failures += c.errors() + (opts.strict ? c.warnings() : 0);
        if (global.quiet) continue;
        (as_json ? std::cerr : std::cout) << summary(file, c) << '\n';
    }
    if (as_json) std::cout << all.dump(2) << '\n';
    return failures > 0 ? core::exit_usage : core::exit_ok;
}

void add_validate_command(CLI::App& workflow, command_context& ctx) {
    auto opts = std::make_shared<validate_options>();
    CLI::App* cmd = workflow.add_subcommand(
        "validate", "Check workflow files (YAML or JSON) and report every problem with file:line; needs no server.\n"
                    "Exit 0 when there are no errors (warnings allowed), 2 when there are.");
    cmd->add_option("files", opts->files, "Workflow files to check")->required()->type_name("FILE");
    cmd->add_option("-o,--output", ctx.global.output, "table (problems on stderr) or json (a JSON array on stdout)")
        ->check(CLI::IsMember({"table", "json"}))
        ->type_name("FORMAT");
    cmd->add_flag("-q,--quiet", ctx.global.quiet, "Print only the problems, no summary line");
    cmd->add_flag("--strict", opts->strict, "Treat warnings as errors");
    cmd->callback([&ctx, opts] { ctx.run = [&ctx, opts] { return run_validate(*opts, ctx.global); }; });
}

}  // namespace

void add_workflow_commands(CLI::App& app, command_context& ctx) {
    CLI::App* workflow = app.add_subcommand("workflow", "Manage workflow definitions and runs");
    workflow->require_subcommand(1);
    add_validate_command(*workflow, ctx);
}

}  // namespace orbitmesh::cli
