#include "cli/tls_flags.hpp"

#include <cstdlib>

#include <CLI/CLI.hpp>

#include "core/error.hpp"

namespace orbitmesh::cli {

void add_serve_tls_flags(CLI::App& sub, transport::tls_server_files& f) {
    sub.add_option("--tls-cert", f.cert_file, "PEM certificate (then intermediates): serve https:// and wss:// on the port")
        ->type_name("FILE");
    sub.add_option("--tls-key", f.key_file, "PEM private key of --tls-cert")->type_name("FILE");
    sub.add_option("--client-ca", f.client_ca_file,
                   "PEM CA(s): agents must present a certificate it signed; its CN is the agent's name")
        ->type_name("FILE");
}

void check_serve_tls(const transport::tls_server_files& f) {
    if (f.cert_file.empty() && !f.key_file.empty())
        throw core::error(core::error_kind::usage, "--tls-key needs --tls-cert (the certificate it belongs to)");
    if (!f.cert_file.empty() && f.key_file.empty())
        throw core::error(core::error_kind::usage, "--tls-cert needs --tls-key (the certificate's private key)");
    if (f.cert_file.empty() && !f.client_ca_file.empty())
        throw core::error(core::error_kind::usage,
                          "--client-ca needs --tls-cert and --tls-key (client certificates are checked in the TLS handshake)");
}

void add_agent_tls_flags(CLI::App& sub, transport::tls_client_files& f) {
    sub.add_option("--ca", f.ca_file, "PEM CA bundle to verify a wss:// hub against (env ORBITMESH_CA; default: system store)")
        ->type_name("FILE");
    sub.add_option("--tls-cert", f.cert_file, "PEM client certificate for a hub with --client-ca (CN = --name)")
        ->type_name("FILE");
    sub.add_option("--tls-key", f.key_file, "PEM private key of --tls-cert")->type_name("FILE");
}

transport::tls_client_files resolve_client_tls(transport::tls_client_files f) {
    if (f.ca_file.empty())
        if (const char* env = std::getenv("ORBITMESH_CA"); env && *env) f.ca_file = env;
    if (f.cert_file.empty() != f.key_file.empty())
        throw core::error(core::error_kind::usage, f.cert_file.empty() ? "--tls-key needs --tls-cert"
                                                                       : "--tls-cert needs --tls-key (its private key)");
    return f;
}

}  // namespace orbitmesh::cli
