// `orbitmesh version`.
#include <CLI/CLI.hpp>
#include <iostream>

#include "cli/command.hpp"
#include "cli/output.hpp"

namespace orbitmesh::cli {

int print_version(const std::string& format) {
    check_format(format);
    if (format == "table") {
        std::cout << "orbitmesh " << ORBITMESH_VERSION << " (commit " << ORBITMESH_COMMIT << ", " << ORBITMESH_BUILD_TYPE
                  << ")" << std::endl;
    } else {
        print_json({{"version", ORBITMESH_VERSION}, {"commit", ORBITMESH_COMMIT}, {"build_type", ORBITMESH_BUILD_TYPE}},
                   format == "ndjson");
    }
    return 0;
}

void add_version_command(CLI::App& app, command_context& ctx) {
    auto* sub = app.add_subcommand("version", "Print version, commit and build type");
    auto format = std::make_shared<std::string>("table");
    sub->add_option("-o,--output", *format, "table, json or ndjson")->capture_default_str();
    sub->callback([&ctx, format] { ctx.run = [format] { return print_version(*format); }; });
}

}  // namespace orbitmesh::cli
