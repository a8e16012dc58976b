#pragma once
// TLS settings as the command line gives them: file names only, so no OpenSSL or Asio header
// leaks into the callers (cli/, engine/). The contexts are built in transport/tls.cpp.
#include <string>

namespace orbitmesh::transport {

/// The hub's side (`serve --tls-cert/--tls-key/--client-ca`). Empty cert = plain TCP.
struct tls_server_files {
    std::string cert_file;       // PEM: the hub's certificate, then any intermediates
    std::string key_file;        // PEM: its private key
    std::string client_ca_file;  // PEM: CAs whose client certificates are accepted; empty = none asked for
    bool enabled() const { return !cert_file.empty(); }
};

/// A client's side (the agent and the CLI): whom to trust, and optionally who we are.
struct tls_client_files {
    std::string ca_file;    // PEM bundle to verify the hub against; empty = the system store
    std::string cert_file;  // PEM client certificate (mutual TLS); empty = none
    std::string key_file;   // its private key
};

/// Loads the files as the server will, so a bad one stops `serve` before it opens its store.
/// Throws core::error{usage} naming the file and the cause.
void check_server_tls(const tls_server_files& files);

}  // namespace orbitmesh::transport
