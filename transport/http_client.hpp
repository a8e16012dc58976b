#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/url.hpp"
#include "transport/tls_options.hpp"

namespace orbitmesh::transport {

struct http_result {
    int status = 0;
    std::string body;
    std::string content_type;
};

/// A blocking HTTP/1.1 client for the CLI: one keep-alive connection, reused across calls.
/// Not thread-safe.
class http_client {
public:
    /// For https:// the hub is verified against `tls.ca_file` (or the system store). Throws
    /// core::error{usage} when that file cannot be loaded.
    explicit http_client(core::server_url url, std::string token = {}, tls_client_files tls = {});
    ~http_client();
    /// Sends one request. Throws core::error{unavailable} ("cannot reach the hub at HOST:PORT: ...")
    /// when it cannot connect, the TLS handshake fails (an untrusted certificate: the line says so)
    /// or the connection fails, core::error{timeout} past `timeout`.
    http_result request(const std::string& method, const std::string& target, const std::string& body = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace orbitmesh::transport
