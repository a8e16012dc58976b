#include "core/error.hpp"

#include "core/exit_code.hpp"

namespace orbitmesh::core {

std::string_view to_string(error_kind k) noexcept {
    switch (k) {
    case error_kind::usage: return "usage";
    case error_kind::invalid_input: return "invalid_input";
    case error_kind::not_found: return "not_found";
    case error_kind::conflict: return "conflict";
    case error_kind::queue_full: return "queue_full";
    case error_kind::unavailable: return "unavailable";
    case error_kind::unauthorized: return "unauthorized";
    case error_kind::timeout: return "timeout";
    case error_kind::cancelled: return "cancelled";
    case error_kind::failed: return "failed";
    case error_kind::protocol: return "protocol";
    case error_kind::storage: return "storage";
    case error_kind::internal: return "internal";
    }
    return "internal";
}

int http_status(error_kind k) noexcept {
    switch (k) {
    case error_kind::usage:
    case error_kind::invalid_input:
    case error_kind::protocol: return 400;
    case error_kind::unauthorized: return 401;
    case error_kind::not_found: return 404;
    case error_kind::conflict: return 409;
    case error_kind::queue_full: return 429;
    case error_kind::unavailable:
    case error_kind::storage: return 503;
    case error_kind::timeout: return 504;
    default: return 500;
    }
}

error_kind kind_from_http_status(int status) noexcept {
    switch (status) {
    case 400: return error_kind::invalid_input;
    case 401:
    case 403: return error_kind::unauthorized;
    case 404: return error_kind::not_found;
    case 409: return error_kind::conflict;
    case 429: return error_kind::queue_full;
    case 503: return error_kind::unavailable;
    case 504: return error_kind::timeout;
    default: return error_kind::internal;
    }
}

int exit_code_for(error_kind k) noexcept {
    switch (k) {
    case error_kind::usage:
    case error_kind::invalid_input:
    case error_kind::not_found:
    case error_kind::conflict:
    case error_kind::queue_full: return exit_usage;
    case error_kind::unavailable:
    case error_kind::unauthorized: return exit_unavailable;
    case error_kind::timeout: return exit_timeout;
    case error_kind::cancelled: return exit_cancelled;
    default: return exit_failed;
    }
}

}  // namespace orbitmesh::core
