// orbitmesh: one binary for the hub, the agent and every client command (SPEC §1).
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string_view>
#include <unistd.h>

#include "cli/command.hpp"
#include "cli/parse_errors.hpp"
#include "cli/settings_layers.hpp"
#include "core/error.hpp"
#include "core/exit_code.hpp"

namespace {

constexpr const char* exit_codes_help =
    "\nExit codes:\n"
    "  0    success\n"
    "  1    the job or workflow failed (or replay --verify found a difference)\n"
    "  2    bad usage or invalid input (flags, YAML, expressions)\n"
    "  3    cannot reach or authenticate to the server\n"
    "  4    timed out\n"
    "  5    cancelled\n"
    "  130  interrupted by Ctrl-C\n";

void print_error(const std::string& message) {
    std::string line = "orbitmesh: error: " + message + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace orbitmesh;
    // Plain `orbitmesh version` (what scripts and health checks call most) is answered before the
    // command tree is built: its hundreds of options were most of the command's start-up.
    if (argc == 2 && std::string_view(argv[1]) == "version") return cli::print_version("table");
    CLI::App app{"OrbitMesh: run jobs and workflows across a fleet of machines.", "orbitmesh"};
    app.footer(exit_codes_help);
    app.require_subcommand(1);
    app.set_help_all_flag("--help-all", "Print help for every command");
    cli::command_context ctx;
    // Client flags are accepted before the command too (`orbitmesh --server URL job list`).
    cli::add_client_flags(app, ctx.global);
    cli::add_serve_command(app, ctx);
    cli::add_agent_command(app, ctx);
    cli::add_job_commands(app, ctx);
    cli::add_status_command(app, ctx);
    cli::add_workflow_commands(app, ctx);
    cli::add_workflow_manage_commands(app, ctx);
    cli::add_workflow_triggers_command(app, ctx);
    cli::add_workflow_test_command(app, ctx);
    cli::add_run_command(app, ctx);
    cli::add_event_commands(app, ctx);
    cli::add_replay_command(app, ctx);
    cli::add_twin_commands(app, ctx);  // after add_agent_command: adds agent drain|undrain
    cli::add_token_commands(app, ctx);
    cli::add_version_command(app, ctx);
    cli::add_completions_command(app, ctx);

    try {
        app.parse(argc, argv);
        cli::apply_settings_layers(app, ctx, argc, argv);
    } catch (const CLI::CallForHelp& e) {
        if (auto unknown = cli::unknown_command_before_help(app, argc, argv)) {
            print_error(*unknown);
            return core::exit_usage;
        }
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForVersion& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        print_error(cli::describe_parse_error(app, e));
        return core::exit_usage;
    } catch (const core::error& e) {
        print_error(e.what());
        return core::exit_code_for(e.kind());
    }
    if (!ctx.run) {
        print_error("no command given (try `orbitmesh --help`)");
        return core::exit_usage;
    }
    try {
        return ctx.run();
    } catch (const core::error& e) {
        print_error(e.what());
        return core::exit_code_for(e.kind());
    } catch (const std::exception& e) {
        print_error(std::string("unexpected failure: ") + e.what());
        return core::exit_failed;
    }
}
