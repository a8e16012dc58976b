#include "cli/parse_errors.hpp"

#include <CLI/CLI.hpp>

#include "core/workflow_suggest.hpp"

#include <algorithm>
#include <optional>

namespace orbitmesh::cli {

namespace {

/// The deepest subcommand the user reached ("orbitmesh job submit").
CLI::App* deepest(CLI::App* app) {
    for (auto* sub : app->get_subcommands())
        if (sub->parsed()) return deepest(sub);
    return app;
}

std::string command_path(CLI::App* app) {
    std::string path;
    for (auto* a = app; a != nullptr; a = a->get_parent()) path = a->get_name() + (path.empty() ? "" : " " + path);
    return path;
}

/// " (did you mean "x"?)" or "".
std::string hint(std::string_view word, const std::vector<std::string>& names) {
    std::vector<std::string_view> views(names.begin(), names.end());
    auto text = core::did_you_mean(word, views);
    return text.empty() ? text : " (" + text + ")";
}

std::string suggest_subcommand(CLI::App* at, const std::string& word) {
    std::vector<std::string> names;
    for (auto* sub : at->get_subcommands({})) names.push_back(sub->get_name());
    return hint(word, names);
}

/// " (did you mean --priority?)" or "": flags are written bare, as the user types them.
std::string suggest_flag(CLI::App* at, const std::string& word) {
    std::vector<std::string> names;
    for (const auto* opt : at->get_options())
        for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    std::vector<std::string_view> views(names.begin(), names.end());
    auto best = core::closest_name(word, views);
    return best ? " (did you mean " + *best + "?)" : std::string();
}

/// The first word CLI11 left over that looks like a flag (`--priorty` of `--priorty 3`, with any
/// `=value` cut off): a mistyped flag that takes a value leaves its value behind too, and that
/// value must not be what the error names.
std::string first_flag(const std::vector<std::string>& words) {
    for (const auto& w : words)
        if (w.size() > 1 && w[0] == '-' && w != "--") return w.substr(0, w.find('='));
    return {};
}

std::string first_extra(const std::string& message) {
    // CLI11: "The following arguments were not expected: a b"
    auto colon = message.rfind(": ");
    if (colon == std::string::npos) return {};
    auto rest = message.substr(colon + 2);
    return rest.substr(0, rest.find(' '));
}

}  // namespace

std::optional<std::string> unknown_command_before_help(CLI::App& app, int argc, const char* const* argv) {
    CLI::App* at = &app;
    for (int i = 1; i < argc; ++i) {
        std::string w = argv[i];
        if (w == "--") return std::nullopt;
        if (!w.empty() && w[0] == '-') {
            auto name = w.substr(0, w.find('='));
            const auto* opt = at->get_option_no_throw(name);
            if (opt && opt->get_type_size() > 0 && name == w) ++i;  // its value is the next word
            continue;
        }
        const auto subs = at->get_subcommands({});
        auto named = std::find_if(subs.begin(), subs.end(), [&](CLI::App* s) { return s->check_name(w); });
        if (named != subs.end()) {
            at = *named;
            continue;
        }
        if (subs.empty()) return std::nullopt;  // a positional argument
        auto where = command_path(at);
        return "unknown command \"" + w + "\" for `" + where + "`" + suggest_subcommand(at, w) + " (see `" + where + " --help`)";
    }
    return std::nullopt;
}

std::string describe_parse_error(CLI::App& app, const CLI::ParseError& e) {
    CLI::App* at = deepest(&app);
    std::string where = command_path(at);
    std::string msg = e.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        if (auto flag = first_flag(at->remaining()); !flag.empty())
            return "unknown flag " + flag + " for `" + where + "`" + suggest_flag(at, flag) + " (see `" + where + " --help`)";
        std::string word = first_extra(msg);
        if (!at->get_subcommands({}).empty())
            return "unknown command \"" + word + "\" for `" + where + "`" + suggest_subcommand(at, word) + " (see `" +
                   where + " --help`)";
        return "unexpected argument \"" + word + "\" for `" + where + "` (see `" + where + " --help`)";
    }
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr && msg.find("subcommand") != std::string::npos) {
        // CLI11 reports an unknown command word as a missing subcommand; the word is left over.
        for (const auto& word : at->remaining())
            if (!word.empty() && word[0] != '-')
                return "unknown command \"" + word + "\" for `" + where + "`" + suggest_subcommand(at, word) + " (see `" +
                       where + " --help`)";
        return "`" + where + "` needs a command (see `" + where + " --help`)";
    }
    return where + ": " + msg + " (see `" + where + " --help`)";
}

}  // namespace orbitmesh::cli
