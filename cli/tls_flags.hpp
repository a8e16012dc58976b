#pragma once
// TLS flags shared by `serve`, `agent` and the client commands (SPEC §8): file names only; the
// transport loads them (and says which one it could not).
#include <string>

#include "transport/tls_options.hpp"

namespace CLI {
class App;
}

namespace orbitmesh::cli {

/// `serve --tls-cert FILE --tls-key FILE --client-ca FILE`.
void add_serve_tls_flags(CLI::App& sub, transport::tls_server_files& f);
/// Throws core::error{usage} for combinations that cannot work (a key without a certificate,
/// a client CA without TLS).
void check_serve_tls(const transport::tls_server_files& f);

/// `agent --ca FILE --tls-cert FILE --tls-key FILE`.
void add_agent_tls_flags(CLI::App& sub, transport::tls_client_files& f);

/// `--ca` after flag > ORBITMESH_CA > empty (the system store). Throws core::error{usage} when
/// only one of a client certificate and its key is given.
transport::tls_client_files resolve_client_tls(transport::tls_client_files f);

}  // namespace orbitmesh::cli
