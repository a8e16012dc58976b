#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace orbitmesh::cli {

struct command_context;

/// Where a setting of `serve` or `agent` came from (SPEC §1: flag > environment > config > default).
enum class setting_source { flag, environment, config, defaulted };

/// The `--config FILE` / `--print-config` state of one long-running command.
struct settings_state {
    std::string config_file;  // --config, or $ORBITMESH_CONFIG
    bool print = false;       // --print-config
    std::map<std::string, setting_source> sources;  // by key, filled by layer_arguments
};

/// Adds `--config FILE` and `--print-config` to `sub`. Call after every other flag of it.
std::shared_ptr<settings_state> add_settings_flags(CLI::App& sub);

/// Every config key of `sub`, generated from its flags: a flag's long name without the dashes
/// (`data-dir`; `data_dir` is read the same). `--help`, `--config` and `--print-config` have none.
std::vector<std::string> config_keys(const CLI::App& sub);

/// `ORBITMESH_DATA_DIR` for the key `data-dir`.
std::string environment_name(const std::string& key);

/// After a first parse of the command line: the extra `--key=value` arguments that give every
/// flag not on the command line its value from the environment, else from the config file, and
/// records each key's source in `state`. Throws core::error{usage} for an unreadable file, a YAML
/// error, an unknown key (with "did you mean") or a value of the wrong shape, naming file:line.
std::vector<std::string> layer_arguments(CLI::App& sub, settings_state& state);

/// After the first parse: when a command with settings was chosen, parses the command line again
/// with its layered arguments added, and makes `--print-config` the action. Throws CLI::ParseError
/// for a value the flag refuses, core::error{usage} as layer_arguments does.
void apply_settings_layers(CLI::App& app, command_context& ctx, int argc, char** argv);

/// The effective settings as YAML, one `key: value  # source` line each (`--print-config`).
std::string describe_settings(const CLI::App& sub, const settings_state& state);

}  // namespace orbitmesh::cli
