// `orbitmesh workflow register|list|cancel|pause|resume|approve|rerun` (SPEC §1, §4): the
// subcommands that talk to the hub, added to the `workflow` command that workflow_cmd.cpp creates.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/api_client.hpp"
#include "cli/command.hpp"
#include "cli/output.hpp"
#include "cli/run_follow.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"

namespace orbitmesh::cli {

namespace {

std::string run_path(const std::string& run, const std::string& action) {
    return "/api/v1/runs/" + url_encode(run) + (action.empty() ? "" : "/" + action);
}

/// A run record after an action: `RUN STATE` for people, the record for scripts.
void print_run_state(const core::json& run, const std::string& format) {
    if (format == "table") std::cout << core::string_at(run, "id") << " " << core::string_at(run, "state") << std::endl;
    else print_json(run, format == "ndjson");
}

std::string read_file_text(const std::string& file) {
    std::ifstream in(file);
    if (!in) throw core::error(core::error_kind::usage, "cannot read workflow file " + file + " (check the path)");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int run_register(const std::vector<std::string>& files, const global_options& g) {
    check_format(g.output);
    api_client api(g);
    core::json all = core::json::array();
    for (const auto& file : files) {
        core::json body = {{"source", read_file_text(file)}, {"file", std::filesystem::path(file).filename().string()}};
        core::json wf;
        try {
            wf = api.post("/api/v1/workflows", body);
        } catch (const core::error& e) {
            if (e.kind() != core::error_kind::invalid_input) throw;
            throw core::error(e.kind(), file + ": " + e.what() + " (see orbitmesh workflow validate " + file + ")");
        }
        if (g.output == "table") std::cout << core::string_at(wf, "id") << " " << (core::string_at(wf, "version").empty() ? "-" : core::string_at(wf, "version")) << std::endl;
        all.push_back(wf);
    }
    if (g.output == "json") print_json({{"workflows", all}});
    if (g.output == "ndjson")
        for (const auto& wf : all) print_json(wf, true);
    return core::exit_ok;
}

int run_list(const global_options& g) {
    check_format(g.output);
    api_client api(g);
    auto list = api.get("/api/v1/workflows").value("workflows", core::json::array());
    if (g.output != "table") {
        if (g.output == "json") print_json({{"workflows", list}});
        else for (const auto& wf : list) print_json(wf, true);
        return core::exit_ok;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& wf : list) {
        auto steps = wf.value("steps", core::json());
        rows.push_back({cell(wf, "id"), cell(wf, "name"), cell(wf, "version"),
                        steps.is_array() ? std::to_string(steps.size()) : (steps.is_number() ? steps.dump() : "-"),
                        cell(wf, "registered_at")});
    }
    print_table({"ID", "NAME", "VERSION", "STEPS", "REGISTERED"}, rows);
    return core::exit_ok;
}

void add_register_list(CLI::App& wf, command_context& ctx) {
    auto files = std::make_shared<std::vector<std::string>>();
    auto* reg = wf.add_subcommand("register", "Register workflow files with the hub; prints each id and version");
    reg->add_option("files", *files, "Workflow files (YAML or JSON)")->required()->type_name("FILE");
    add_client_flags(*reg, ctx.global);
    reg->callback([&ctx, files] { ctx.run = [&ctx, files] { return run_register(*files, ctx.global); }; });

    auto* list = wf.add_subcommand("list", "List the workflows registered with the hub");
    add_client_flags(*list, ctx.global);
    list->callback([&ctx] { ctx.run = [&ctx] { return run_list(ctx.global); }; });
}

/// cancel, pause, resume: one POST each, no body.
void add_run_action(CLI::App& wf, command_context& ctx, const std::string& name, const std::string& help) {
    auto run = std::make_shared<std::string>();
    auto* sub = wf.add_subcommand(name, help);
    sub->add_option("run", *run, "Run id")->required()->type_name("RUN");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, run, name] {
        ctx.run = [&ctx, run, name] {
            check_format(ctx.global.output);
            api_client api(ctx.global);
            print_run_state(api.post(run_path(*run, name), core::json::object()), ctx.global.output);
            return core::exit_ok;
        };
    });
}

struct approve_flags {
    std::string run, step, approver, comment;
    bool reject = false;
};

int run_approve(const approve_flags& f, const global_options& g) {
    check_format(g.output);
    std::string approver = f.approver;
    if (approver.empty())
        if (const char* user = std::getenv("USER"); user && *user) approver = user;
    core::json body = {{"step", f.step}, {"approver", approver}, {"comment", f.comment}, {"reject", f.reject}};
    api_client api(g);
    print_run_state(api.post(run_path(f.run, "approve"), body), g.output);
    return core::exit_ok;
}

void add_approve(CLI::App& wf, command_context& ctx) {
    auto f = std::make_shared<approve_flags>();
    auto* sub = wf.add_subcommand("approve", "Approve (or --reject) a run's approval step");
    sub->add_option("run", f->run, "Run id")->required()->type_name("RUN");
    sub->add_option("--step", f->step, "The approval step's id")->required()->type_name("STEP");
    sub->add_option("--approver", f->approver, "Who approves (default: $USER)")->type_name("NAME");
    sub->add_option("--comment", f->comment, "Recorded with the decision")->type_name("TEXT");
    sub->add_flag("--reject", f->reject, "Reject instead: the approval step fails");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_approve(*f, ctx.global); }; });
}

struct rerun_flags {
    std::string run, from;
    bool wait = false;
};

int run_rerun(const rerun_flags& f, const global_options& g) {
    check_format(g.output);
    api_client api(g);
    auto run = api.post(run_path(f.run, "rerun"), {{"from", f.from}});
    if (!f.wait) {
        if (g.output == "table") std::cout << core::string_at(run, "id") << std::endl;
        else print_json(run, g.output == "ndjson");
        return core::exit_ok;
    }
    if (g.output == "table" && !g.quiet) std::cerr << "orbitmesh: started run " << core::string_at(run, "id") << std::endl;
    follow_options o;
    o.format = g.output;
    o.quiet = g.quiet;
    o.verbose = g.verbose;
    return follow_run(api, core::string_at(run, "id"), o);
}

void add_rerun(CLI::App& wf, command_context& ctx) {
    auto f = std::make_shared<rerun_flags>();
    auto* sub = wf.add_subcommand("rerun", "Start a new run from STEP, reusing the recorded outputs upstream of it; "
                                           "prints the new run id");
    sub->add_option("run", f->run, "Run id")->required()->type_name("RUN");
    sub->add_option("--from", f->from, "The first step to run again")->required()->type_name("STEP");
    sub->add_flag("--wait", f->wait, "Follow the new run to its end (exit codes as for orbitmesh run)");
    add_client_flags(*sub, ctx.global);
    sub->callback([&ctx, f] { ctx.run = [&ctx, f] { return run_rerun(*f, ctx.global); }; });
}

}  // namespace

void add_workflow_manage_commands(CLI::App& app, command_context& ctx) {
    CLI::App* wf = app.get_subcommand("workflow");
    add_register_list(*wf, ctx);
    add_run_action(*wf, ctx, "cancel", "Cancel a run: running steps are stopped, completed steps compensated");
    add_run_action(*wf, ctx, "pause", "Pause a run: no new steps start until it is resumed");
    add_run_action(*wf, ctx, "resume", "Resume a paused run");
    add_approve(*wf, ctx);
    add_rerun(*wf, ctx);
}

}  // namespace orbitmesh::cli
