#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace orbitmesh::transport {

/// One request the hub makes on a workflow's behalf (http steps).
struct outbound_request {
    std::string method = "GET";
    std::string host;    // as written in the URL; sent as Host
    std::uint16_t port = 80;
    std::string target = "/";
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::chrono::milliseconds timeout{30'000};  // the whole exchange: resolve, connect, write, read
    std::size_t max_response = 1u << 20;        // body bytes; more fails the request
};

struct outbound_response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
};

/// Says whether a resolved address may be connected to: "" yes, else why not.
using address_check = std::function<std::string(const std::string& ip, std::uint16_t port)>;

/// Resolves the host, connects only to an address `allowed` accepts (so a name cannot smuggle a
/// refused address past the check), sends the request (no redirects are followed) and reads the
/// response within the bounds. Blocking; throws core::error{unavailable|timeout|invalid_input}
/// with a one-line cause. Thread-safe (each call has its own io_context).
outbound_response send_outbound(const outbound_request& req, const address_check& allowed);

}  // namespace orbitmesh::transport
