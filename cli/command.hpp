#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace CLI {
class App;
}

namespace orbitmesh::cli {

struct settings_state;

/// Flags every client command shares (SPEC §1). Filled by CLI11, then from the environment.
struct global_options {
    std::string server;       // --server / ORBITMESH_SERVER / default http://127.0.0.1:7420
    std::string token;        // --token / ORBITMESH_TOKEN
    std::string token_file;   // --token-file
    std::string ca_file;      // --ca / ORBITMESH_CA: verify an https:// hub against this PEM bundle
    std::string output = "table";  // -o table|json|ndjson
    bool quiet = false;
    bool verbose = false;
};

/// What main() runs after parsing: the chosen subcommand's action. Returns the exit code;
/// throws core::error for failures (main prints one line and maps the kind to an exit code).
using action = std::function<int()>;

/// Shared state between main() and the subcommand registrations.
struct command_context {
    global_options global;
    action run;  // set by the selected subcommand's parse callback
    /// Commands whose flags are settings (`serve`, `agent`): --config, environment, --print-config.
    std::map<const CLI::App*, std::shared_ptr<settings_state>> settings;
};

/// Adds `--server`, `--token`, `--token-file`, `--ca`, `-o`, `-q`, `-v` to a client subcommand.
void add_client_flags(CLI::App& sub, global_options& g);

/// One registration function per subcommand file (cli/<name>_cmd.cpp).
void add_serve_command(CLI::App& app, command_context& ctx);
void add_agent_command(CLI::App& app, command_context& ctx);
void add_job_commands(CLI::App& app, command_context& ctx);
void add_status_command(CLI::App& app, command_context& ctx);
void add_version_command(CLI::App& app, command_context& ctx);
/// `orbitmesh version` in `format` (table, json, ndjson); returns the exit status.
int print_version(const std::string& format);
void add_completions_command(CLI::App& app, command_context& ctx);
void add_workflow_commands(CLI::App& app, command_context& ctx);  // issue 3
/// Adds register|list|cancel|pause|resume|approve|rerun to the `workflow` command (call after
/// add_workflow_commands).
void add_workflow_manage_commands(CLI::App& app, command_context& ctx);
/// Adds `triggers [WORKFLOW]` to the `workflow` command (issue 10).
void add_workflow_triggers_command(CLI::App& app, command_context& ctx);
/// Adds `test FILE` to the `workflow` command (issue 14).
void add_workflow_test_command(CLI::App& app, command_context& ctx);
void add_run_command(CLI::App& app, command_context& ctx);
void add_event_commands(CLI::App& app, command_context& ctx);
void add_replay_command(CLI::App& app, command_context& ctx);
/// `twin get|set` and `agent drain|undrain` (issue 10; call after add_agent_command).
void add_twin_commands(CLI::App& app, command_context& ctx);
void add_token_commands(CLI::App& app, command_context& ctx);

}  // namespace orbitmesh::cli
