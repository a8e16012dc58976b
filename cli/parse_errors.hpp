#pragma once
#include <string>

namespace CLI {
class App;
class ParseError;
}  // namespace CLI

namespace orbitmesh::cli {

/// One line for a CLI11 parse error, naming the command and, for a near miss, the likely name
/// ("unknown command \"sevre\" (did you mean \"serve\"?)").
std::string describe_parse_error(CLI::App& app, const CLI::ParseError& e);

}  // namespace orbitmesh::cli
