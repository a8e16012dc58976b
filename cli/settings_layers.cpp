#include "cli/settings_layers.hpp"

#include <CLI/CLI.hpp>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "cli/command.hpp"
#include "core/error.hpp"
#include "core/workflow_suggest.hpp"

namespace orbitmesh::cli {

namespace {

constexpr const char* config_flag = "config";
constexpr const char* print_flag = "print-config";

[[noreturn]] void usage(const std::string& message) { throw core::error(core::error_kind::usage, message); }

/// The flags that are settings: every option with a long name but help, --config, --print-config.
std::vector<const CLI::Option*> setting_options(const CLI::App& sub) {
    std::vector<const CLI::Option*> out;
    for (const auto* opt : sub.get_options()) {
        if (opt == sub.get_help_ptr() || opt == sub.get_help_all_ptr() || opt->get_lnames().empty()) continue;
        const auto& name = opt->get_lnames().front();
        if (name == config_flag || name == print_flag) continue;
        out.push_back(opt);
    }
    return out;
}

/// Settings whose value is a credential: `--print-config` says that one is set, never what it is
/// (SPEC §8: secrets are never shown), so its output can be pasted into a bug report.
bool is_secret(const std::string& key) { return key == "token"; }

bool is_flag(const CLI::Option* opt) { return opt->get_expected_max() == 0; }
bool is_list(const CLI::Option* opt) { return !is_flag(opt) && opt->get_expected_max() > 1; }

std::string where(const std::string& file, const YAML::Mark& mark) {
    return mark.is_null() ? file : file + ":" + std::to_string(mark.line + 1);
}

std::string normalise_key(std::string key) {
    std::replace(key.begin(), key.end(), '_', '-');
    return key;
}

/// The values one config key gives: a scalar, a list of scalars, or (for a list flag such as
/// --tag) a map written as KEY=VALUE words.
std::vector<std::string> config_values(const YAML::Node& v, const CLI::Option* opt, const std::string& at,
                                       const std::string& key) {
    std::vector<std::string> out;
    auto scalar = [&](const YAML::Node& n) {
        if (!n.IsScalar()) usage(at + ": key \"" + key + "\" takes plain values, not nested lists or maps");
        out.push_back(n.Scalar());
    };
    if (v.IsNull()) return out;
    if (v.IsScalar()) {
        scalar(v);
    } else if (v.IsSequence() && is_list(opt)) {
        for (const auto& item : v) scalar(item);
    } else if (v.IsMap() && is_list(opt)) {
        for (const auto& kv : v) {
            if (!kv.second.IsScalar()) usage(at + ": key \"" + key + "\" takes KEY: VALUE pairs of plain values");
            out.push_back(kv.first.Scalar() + "=" + kv.second.Scalar());
        }
    } else {
        usage(at + ": key \"" + key + "\" takes one value (--" + key + " is not repeatable)");
    }
    return out;
}

YAML::Node load_config(const std::string& file) {
    std::ifstream in(file);
    if (!in) usage("cannot read config file \"" + file + "\": " + std::strerror(errno));
    YAML::Node root;
    try {
        root = YAML::Load(in);
    } catch (const YAML::Exception& e) {
        usage(where(file, e.mark) + ": not valid YAML: " + e.msg);
    }
    if (root.IsNull()) return root;
    if (!root.IsMap()) usage(file + ": a config file is a map of flag names to values (data-dir: /var/lib/orbitmesh)");
    return root;
}

std::vector<std::string> as_arguments(const std::string& key, const std::vector<std::string>& values) {
    std::vector<std::string> out;
    for (const auto& v : values) out.push_back("--" + key + "=" + v);
    return out;
}

/// An environment value: list flags split at commas (ORBITMESH_TAG=zone=a,role=web).
std::vector<std::string> environment_values(const CLI::Option* opt, const std::string& text) {
    if (!is_list(opt)) return {text};
    std::vector<std::string> out;
    std::stringstream in(text);
    for (std::string part; std::getline(in, part, ',');)
        if (!part.empty()) out.push_back(part);
    return out;
}

const char* source_name(setting_source s) {
    switch (s) {
        case setting_source::flag: return "flag";
        case setting_source::environment: return "environment";
        case setting_source::config: return "config file";
        default: return "default";
    }
}

/// A value as YAML: quoted when YAML would read it as something else.
std::string yaml_scalar(const std::string& v) {
    YAML::Emitter e;
    e << v;
    return e.c_str();
}

}  // namespace

std::shared_ptr<settings_state> add_settings_flags(CLI::App& sub) {
    auto state = std::make_shared<settings_state>();
    sub.add_option(std::string("--") + config_flag, state->config_file,
                   "YAML file of settings: every flag is a key (data-dir: /var/lib/orbitmesh); flag > environment "
                   "(ORBITMESH_DATA_DIR) > config > default (env ORBITMESH_CONFIG)")
        ->type_name("FILE");
    sub.add_flag(std::string("--") + print_flag, state->print,
                 "Print the effective settings as YAML, each with where it came from, and exit");
    return state;
}

std::vector<std::string> config_keys(const CLI::App& sub) {
    std::vector<std::string> keys;
    for (const auto* opt : setting_options(sub)) keys.push_back(opt->get_lnames().front());
    return keys;
}

std::string environment_name(const std::string& key) {
    std::string out = "ORBITMESH_";
    for (char c : key) out.push_back(c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
    return out;
}

std::vector<std::string> layer_arguments(CLI::App& sub, settings_state& state) {
    if (state.config_file.empty())
        if (const char* env = std::getenv("ORBITMESH_CONFIG"); env && *env) state.config_file = env;
    std::map<std::string, const CLI::Option*> by_key;
    for (const auto* opt : setting_options(sub)) by_key[opt->get_lnames().front()] = opt;

    std::map<std::string, std::vector<std::string>> from_config;
    if (!state.config_file.empty()) {
        auto root = load_config(state.config_file);
        std::vector<std::string> names;
        for (const auto& [k, _] : by_key) names.push_back(k);
        std::vector<std::string_view> views(names.begin(), names.end());
        for (const auto& kv : root) {
            auto at = where(state.config_file, kv.first.Mark());
            if (!kv.first.IsScalar()) usage(at + ": config keys are flag names such as data-dir");
            auto key = normalise_key(kv.first.Scalar());
            auto it = by_key.find(key);
            if (it == by_key.end()) {
                auto hint = core::did_you_mean(key, views);
                usage(at + ": unknown key \"" + kv.first.Scalar() + "\" for `" + sub.get_parent()->get_name() + " " +
                      sub.get_name() + "`" + (hint.empty() ? "" : " (" + hint + ")") + " (keys are its flags: see `" +
                      sub.get_parent()->get_name() + " " + sub.get_name() + " --help`)");
            }
            if (from_config.count(key)) usage(at + ": key \"" + key + "\" is given twice");
            from_config[key] = config_values(kv.second, it->second, at, key);
        }
    }

    std::vector<std::string> extra;
    for (const auto& [key, opt] : by_key) {
        auto& source = state.sources[key];
        if (opt->count() > 0) {
            source = setting_source::flag;
        } else if (const char* env = std::getenv(environment_name(key).c_str()); env && *env) {
            source = setting_source::environment;
            for (auto& a : as_arguments(key, environment_values(opt, env))) extra.push_back(std::move(a));
        } else if (auto it = from_config.find(key); it != from_config.end() && !it->second.empty()) {
            source = setting_source::config;
            for (auto& a : as_arguments(key, it->second)) extra.push_back(std::move(a));
        } else {
            source = setting_source::defaulted;
        }
    }
    return extra;
}

std::string describe_settings(const CLI::App& sub, const settings_state& state) {
    std::string out;
    if (!state.config_file.empty()) out += "# config file: " + state.config_file + "\n";
    for (const auto* opt : setting_options(sub)) {
        const auto& key = opt->get_lnames().front();
        auto it = state.sources.find(key);
        auto source = it == state.sources.end() ? setting_source::defaulted : it->second;
        std::string value;
        if (opt->count() > 0 && is_secret(key)) {
            value = "\"(hidden)\"";
        } else if (opt->count() > 0 && is_list(opt)) {
            value = "[";
            for (const auto& r : opt->results()) value += (value.size() > 1 ? ", " : "") + yaml_scalar(r);
            value += "]";
        } else if (opt->count() > 0) {
            value = yaml_scalar(is_flag(opt) ? opt->as<bool>() ? "true" : "false" : opt->results().back());
        } else {
            value = is_flag(opt) ? "false" : is_list(opt) ? "[]" : yaml_scalar(opt->get_default_str());
        }
        out += key + ": " + value + "  # " + source_name(source) + "\n";
    }
    return out;
}

void apply_settings_layers(CLI::App& app, command_context& ctx, int argc, char** argv) {
    for (auto& [command, state] : ctx.settings) {
        auto* sub = const_cast<CLI::App*>(command);
        if (!sub->parsed()) continue;
        auto extra = layer_arguments(*sub, *state);
        if (!extra.empty()) {
            // Flags on the command line were left out of `extra`, so no flag is given twice.
            std::vector<const char*> args(argv, argv + argc);
            for (const auto& a : extra) args.push_back(a.c_str());
            auto layered = *state;
            app.clear();
            app.parse(static_cast<int>(args.size()), args.data());
            state->sources = std::move(layered.sources);
            state->config_file = std::move(layered.config_file);
        }
        if (state->print)
            ctx.run = [sub, state] {
                auto text = describe_settings(*sub, *state);
                std::fwrite(text.data(), 1, text.size(), stdout);
                return 0;
            };
        return;
    }
}

}  // namespace orbitmesh::cli
