#pragma once
#include <string>

// Private to transport/: the listener's one stderr log line, `orbitmesh: TEXT`.
namespace orbitmesh::transport {

/// One write per line; nothing when set_server_log_quiet(true) (server.hpp). Thread-safe.
void server_log(const std::string& text);

}  // namespace orbitmesh::transport
