#pragma once
#include <string>
#include <vector>
#include <cstdint>
#include <exception>
#include <functional>
#include <string>

#include "core/error.hpp"
#include "core/field_reader.hpp"
#include "core/json.hpp"
#include "transport/http_types.hpp"

namespace orbitmesh::engine {

/// Posts a function to the hub strand (hub::post).
using strand_post = std::function<void(std::function<void()>)>;
/// An answer given on the strand: HTTP status and JSON body.
using json_reply = std::function<void(int status, core::json body)>;

/// Runs `fn(answer)` on the strand through `post`; `answer` becomes the HTTP reply. A core::error
/// `fn` throws becomes the JSON error response, anything else a logged 500 (the strand's last
/// guard for components driven from routes: the workflow runner, the token service).
void reply_on_strand(const strand_post& post, const transport::http_request& req, transport::http_reply reply,
                     std::function<void(const json_reply&)> fn);

/// A JSON response with the given status.
transport::http_response json_response(int status, const core::json& body);
/// `{error, message}` with the status of the error's kind.
transport::http_response error_response(const core::error& e);
/// The request body as JSON (empty body = {}). Throws core::error{invalid_input}.
core::json parse_body(const transport::http_request& req);
/// Typed reads of a parsed body: a field of the wrong type is 400 naming it (`request body field
/// "reason" must be a string, got an integer`); a body that is not a map is 400 too.
core::field_reader body_fields(core::json& body);
/// 500 `internal` for an exception nobody expected while handling `what` ("POST /api/v1/jobs"):
/// logged on the hub with the exception's text, answered with context only (no library text).
transport::http_response internal_error_response(const std::string& what, const std::exception& e);
/// A duration query parameter (`?wait=25s`) in ms, 0 when absent, capped at 5 minutes.
std::int64_t query_duration(const transport::http_request& req, const std::string& key);
/// A non-negative integer query parameter, `fallback` when absent.
std::int64_t query_int(const transport::http_request& req, const std::string& key, std::int64_t fallback);

}  // namespace orbitmesh::engine
