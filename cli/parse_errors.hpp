#pragma once
#include <optional>
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace orbitmesh::cli {

/// One line for a CLI11 parse error, naming the command and, for a near miss, the likely name
/// ("unknown command \"sevre\" (did you mean \"serve\"?)").
std::string describe_parse_error(CLI::App& app, const CLI::ParseError& e);

/// `orbitmesh replay --help` when there is no `replay`: CLI11 answers --help before it notices
/// the unknown word and prints the main help with exit 0. Walks argv as CLI11 would and returns
/// the one-line error for the first word that names no command where a command was expected.
std::optional<std::string> unknown_command_before_help(CLI::App& app, int argc, const char* const* argv);

}  // namespace orbitmesh::cli
