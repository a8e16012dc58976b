#pragma once
#include <chrono>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "core/json.hpp"
#include "transport/http_client.hpp"

namespace orbitmesh::cli {

/// The hub's HTTP API as the CLI uses it: JSON in, JSON out, error bodies turned into
/// core::error with the hub's message. Not thread-safe.
class api_client {
public:
    /// Resolves --server / ORBITMESH_SERVER / default and the token sources (SPEC §1 precedence).
    explicit api_client(const global_options& g);
    core::json get(const std::string& target, std::chrono::milliseconds timeout = std::chrono::seconds(30));
    core::json post(const std::string& target, const core::json& body,
                    std::chrono::milliseconds timeout = std::chrono::seconds(30));
    core::json patch(const std::string& target, const core::json& body,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30));
    const core::server_url& url() const { return url_; }

private:
    core::json call(const std::string& method, const std::string& target, const std::string& body,
                    std::chrono::milliseconds timeout);
    core::server_url url_;
    std::unique_ptr<transport::http_client> http_;
};

/// The access token: --token, else the first line of --token-file, else ORBITMESH_TOKEN, else "".
/// Both flags at once, an unreadable or empty file: core::error{usage}.
std::string resolve_token(const std::string& token, const std::string& token_file);
/// The server URL after flag > environment > default.
std::string resolve_server(const std::string& flag);
/// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& s);

}  // namespace orbitmesh::cli
