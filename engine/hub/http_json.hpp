#pragma once
#include <string>
#include <vector>
#include <cstdint>
#include <string>

#include "core/error.hpp"
#include "core/json.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// A JSON response with the given status.
transport::http_response json_response(int status, const core::json& body);
/// `{error, message}` with the status of the error's kind.
transport::http_response error_response(const core::error& e);
/// The request body as JSON (empty body = {}). Throws core::error{invalid_input}.
core::json parse_body(const transport::http_request& req);
/// A duration query parameter (`?wait=25s`) in ms, 0 when absent, capped at 5 minutes.
std::int64_t query_duration(const transport::http_request& req, const std::string& key);
/// "/api/v1/replay/ID" -> {"api", "v1", "replay", "ID"}.
std::vector<std::string> path_segments(const std::string& path);
/// A non-negative integer query parameter, `fallback` when absent.
std::int64_t query_int(const transport::http_request& req, const std::string& key, std::int64_t fallback);

}  // namespace orbitmesh::engine
