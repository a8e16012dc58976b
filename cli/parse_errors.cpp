#include "cli/parse_errors.hpp"

#include <CLI/CLI.hpp>

#include "core/workflow_suggest.hpp"

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

std::string suggest_flag(CLI::App* at, const std::string& word) {
    std::vector<std::string> names;
    for (const auto* opt : at->get_options())
        for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    return hint(word, names);
}

std::string first_extra(const std::string& message) {
    // CLI11: "The following arguments were not expected: a b"
    auto colon = message.rfind(": ");
    if (colon == std::string::npos) return {};
    auto rest = message.substr(colon + 2);
    return rest.substr(0, rest.find(' '));
}

}  // namespace

std::string describe_parse_error(CLI::App& app, const CLI::ParseError& e) {
    CLI::App* at = deepest(&app);
    std::string where = command_path(at);
    std::string msg = e.what();
    if (dynamic_cast<const CLI::ExtrasError*>(&e) != nullptr) {
        std::string word = first_extra(msg);
        if (!word.empty() && word[0] == '-')
            return "unknown flag " + word + " for `" + where + "`" + suggest_flag(at, word) + " (see `" + where + " --help`)";
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
