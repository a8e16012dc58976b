#include "cli/command.hpp"

#include <CLI/CLI.hpp>

#include "cli/output.hpp"
#include "core/duration.hpp"

namespace orbitmesh::cli {

void add_client_flags(CLI::App& sub, global_options& g) {
    sub.add_option("--server", g.server, "Hub address, http(s)://HOST:PORT (env ORBITMESH_SERVER; default http://127.0.0.1:7420)");
    sub.add_option("--token", g.token, "Access token (env ORBITMESH_TOKEN)");
    sub.add_option("--token-file", g.token_file, "Read the access token from a file");
    sub.add_option("--ca", g.ca_file, "PEM CA bundle to verify an https:// hub against (env ORBITMESH_CA; default: system store)")
        ->type_name("FILE");
    sub.add_option("-o,--output", g.output, "Output format: table, json or ndjson")->capture_default_str();
    sub.add_flag("-q,--quiet", g.quiet, "Print only what scripts need");
    sub.add_flag("-v,--verbose", g.verbose, "Print more detail on stderr");
}

}  // namespace orbitmesh::cli
