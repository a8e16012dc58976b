#pragma once
#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "core/url.hpp"

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
    explicit http_client(core::server_url url, std::string token = {});
    ~http_client();
    /// Sends one request. Throws core::error{unavailable} ("cannot reach the hub at HOST:PORT: ...")
    /// when it cannot connect or the connection fails, core::error{timeout} past `timeout`.
    http_result request(const std::string& method, const std::string& target, const std::string& body = {},
                        std::chrono::milliseconds timeout = std::chrono::seconds(30));

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace orbitmesh::transport
