// `orbitmesh completions SHELL`: the scripts of completions/, built into the binary.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/command.hpp"
#include "cli/completion_scripts.hpp"
#include "core/error.hpp"

namespace orbitmesh::cli {

void add_completions_command(CLI::App& app, command_context& ctx) {
    auto shell = std::make_shared<std::string>();
    auto* sub = app.add_subcommand("completions", "Print the completion script for bash, zsh or fish");
    sub->add_option("shell", *shell, "bash, zsh or fish")->required();
    sub->callback([&ctx, shell] {
        ctx.run = [shell] {
            if (*shell == "bash") std::cout << completion_bash;
            else if (*shell == "zsh") std::cout << completion_zsh;
            else if (*shell == "fish") std::cout << completion_fish;
            else throw core::error(core::error_kind::usage, "no completions for shell \"" + *shell + "\" (use bash, zsh or fish)");
            return 0;
        };
    });
}

}  // namespace orbitmesh::cli
