#pragma once
#include <stdexcept>
#include <string>
#include <string_view>

namespace orbitmesh::core {

/// What went wrong, coarse enough to map onto exit codes and HTTP statuses.
enum class error_kind {
    usage,          // bad flags or arguments
    invalid_input,  // bad YAML, JSON, expression, payload
    not_found,
    conflict,       // illegal state transition, duplicate
    queue_full,     // backpressure: the pending queue is at its bound
    unavailable,    // cannot reach the server / peer
    unauthorized,
    timeout,
    cancelled,
    failed,         // the job or workflow itself failed
    protocol,       // a peer broke the wire protocol
    storage,        // the store could not read or write
    internal,
};

/// Anything that should stop an operation. Caught only at the edges (cli/, a session).
class error : public std::runtime_error {
public:
    error(error_kind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    error_kind kind() const noexcept { return kind_; }

private:
    error_kind kind_;
};

std::string_view to_string(error_kind k) noexcept;
/// HTTP status for an error kind (400, 404, 409, 429, 503, ...).
int http_status(error_kind k) noexcept;
/// Inverse of http_status for clients reading an error response.
error_kind kind_from_http_status(int status) noexcept;

}  // namespace orbitmesh::core
