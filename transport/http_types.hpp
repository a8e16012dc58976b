#pragma once
#include <any>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace orbitmesh::transport {

/// A parsed HTTP request as the engine sees it (no Beast types cross this line).
struct http_request {
    std::string method;                        // "GET", "POST", ...
    std::string path;                          // "/api/v1/jobs/ID" (percent-decoded, no query)
    std::map<std::string, std::string> query;  // decoded query parameters
    std::map<std::string, std::string> headers;  // lower-case names
    std::string body;
    std::string remote;  // "127.0.0.1:51234"
    /// What the engine's gate (http_gate, mesh_handler::on_upgrade) decided about this request — the
    /// authenticated principal — carried to the handler and to mesh_peer::upgrade_request().
    std::any context;
};

struct http_response {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
    std::vector<std::pair<std::string, std::string>> headers;
};

/// Sends the response; call exactly once, from any thread. Safe to call after the client left.
using http_reply = std::function<void(http_response)>;
/// Handles one request; may reply later (after a commit, when a job ends).
using http_handler = std::function<void(http_request, http_reply)>;
/// Sees a request's head (method, path, query, headers, remote; the body not read yet) and either
/// refuses it — the response is sent and the connection closed without reading the body — or
/// lets it through, possibly leaving a `context` for the handler. Runs on the connection's strand;
/// may run concurrently for different connections.
using http_gate = std::function<std::optional<http_response>(http_request& head)>;

}  // namespace orbitmesh::transport
